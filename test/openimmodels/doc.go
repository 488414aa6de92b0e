// Package openimmodels holds the tests that judge the migrations by OpenIM
// 3.8.3's own code, in a module of its own so that OpenIM's module graph
// never enters the supervisor's (see migrations/openimmodel):
//
//   - the mirror in migrations/openimmodel equals OpenIM's model types field
//     by field (BSON name, order, Go type);
//   - the indexes our golang-migrate files create equal those OpenIM's own
//     constructors (pkg/common/storage/database/mgo) create;
//   - every document a real upgrade writes decodes into OpenIM's real types.
//
// Run with scripts/test.d/36-openim-models.sh (or `go test ./...` here with
// the test servers' environment).
package openimmodels
