// Package pki creates and reuses the cluster's certificates: the cluster
// certificate authority, the API server's serving certificate, client
// certificates for components and admins, the kubeconfig files that carry
// them, and the server TLS configuration.
//
// Every function takes the current time as an input, so certificates are
// reproducible in tests. Keys are ECDSA P-256, stored as PKCS#8 PEM with
// mode 0600.
package pki
