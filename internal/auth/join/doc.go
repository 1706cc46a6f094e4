// Package join lets an agent that holds only the server's URL and a join
// token obtain its own node credentials: a client certificate for
// "system:node:<name>" in "system:nodes", signed by the cluster CA for a
// key generated on the node.
//
// A join token is "sha256:<hex>::<id>.<secret>": the SHA-256 of the
// cluster CA certificate (DER), which pins the server on first contact,
// and a bootstrap token (see package bootstraptoken). The agent sends a
// certificate request to NodeCertificatePath with the bootstrap token as
// its bearer credential.
package join
