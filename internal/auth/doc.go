// Package auth holds the API server's authentication and authorization
// contracts: a request is first mapped to a User by an Authenticator (client
// certificates, static tokens, ...), then an Authorizer decides whether that
// user may perform the request described by Attributes.
//
// Certificate issuance lives in the pki subpackage; RBAC and admission
// plugins build on the interfaces defined here.
package auth
