// Package openimtest runs the real OpenIM 3.8.3 in tests. It is imported by
// tests only.
//
// scripts/test-services.sh starts the shared component servers on loopback
// (FerretDB as MongoDB, Redis, etcd, a kfake Kafka and a gofakes3 S3) and
// builds OpenIM 3.8.3 once (scripts/openim-real.sh); .cache/test-env.sh then
// holds their addresses as OPENIM_TEST_* variables.
//
//	env := openimtest.Require(t)                 // skip, or fail when OPENIM_TEST_STRICT=1
//	d := openimtest.New(t, env, openimtest.Options{}) // config dirs in t.TempDir(), data isolated
//	sup := d.StartSupervisor(t, openimtest.BuildSupervisor(t))
//	err := d.WaitUsable(ctx)                      // the API answers through every RPC service
//	c := d.Client()                               // OpenIM's HTTP API as the admin
//	err = c.RegisterUsers(ctx, &sdkws.UserInfo{UserID: "u1", Nickname: "One"})
//
// Each Deployment has a Mongo database, a Redis database number, an etcd
// root, Kafka topics and consumer groups, an S3 bucket, local-cache channels
// and ports of its own, so tests may run several at once on the same
// servers. The cleanup drops its data; StartSupervisor's cleanup stops the
// supervisor and fails the test if a process of the deployment is left.
//
// The package keeps no package-level state.
package openimtest
