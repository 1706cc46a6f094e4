// Package openapi builds and serves the OpenAPI documents of the built-in
// resources: the swagger 2.0 document at /openapi/v2 and the per
// group-version OpenAPI 3.0 documents under /openapi/v3.
//
// Schemas are derived by reflection from the k8s.io/api Go types (json tags,
// patch strategy tags, SwaggerDoc descriptions), and paths from the
// registry's resource list. Everything is built once by New; serving only
// picks a prebuilt representation (JSON, or protobuf on request) and
// answers conditional requests.
package openapi
