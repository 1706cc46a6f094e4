// Package bootstraptoken implements upstream's bootstrap tokens: short-lived
// bearer tokens "<id>.<secret>" stored as Secrets named
// "bootstrap-token-<id>" of type "bootstrap.kubernetes.io/token" in
// kube-system. A joining agent authenticates with one as
// "system:bootstrap:<id>" in the group "system:bootstrappers" and trades it
// for its own node credentials.
package bootstraptoken
