// Package auth holds the API server's authentication and authorization
// contracts: a request is first mapped to a User by an Authenticator (client
// certificates, static tokens, bearer tokens through a TokenAuthenticator),
// then an Authorizer decides whether that user may perform the request
// described by Attributes.
//
// The subpackages build on these interfaces:
//
//   - pki: the cluster CA, serving and client certificates, kubeconfigs;
//   - rbac: the RBAC evaluator, escalation checks and default roles;
//   - node: the Node authorizer confining agents to their node's objects;
//   - serviceaccount: service account tokens (signing, verification);
//   - bootstraptoken: bootstrap tokens for joining agents;
//   - join: the agent side of joining with a token.
package auth
