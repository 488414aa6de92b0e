// TEST INFRASTRUCTURE: Kafka-protocol and S3 servers for running the real
// OpenIM in tests. A module of its own so these stay out of the main go.mod.
module github.com/openim-supervisor/openim-supervisor/test/components

go 1.26.0

require (
	github.com/johannesboyne/gofakes3 v1.2.0
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/ryszard/goskiplist v0.0.0-20150312221310-2dfbae5fcf46 // indirect
	github.com/twmb/franz-go v1.22.3 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.1 // indirect
	go.shabbyrobe.org/gocovmerge v0.0.0-20230507111327-fa4f82cfbf4d // indirect
	golang.org/x/tools v0.8.0 // indirect
)
