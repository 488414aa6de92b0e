// Separate module: the daemon-less OCI image builder of deploy/image, kept
// out of the supervisor's go.mod (go-containerregistry and its dependencies).
module github.com/openim-supervisor/openim-supervisor/deploy/image

go 1.26.4

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
