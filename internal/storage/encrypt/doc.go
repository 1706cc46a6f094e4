// Package encrypt encrypts stored values at rest. Store wraps a
// storage.Store: values under the configured resources' keys are sealed with
// the first provider of an EncryptionConfiguration (the file format of
// upstream's apiserver.config.k8s.io/v1, parsed by our own types) and opened
// with whichever provider and key their prefix
// "k8s:enc:<provider>:v1:<key name>:" names. Values without a prefix are
// plaintext and read as such when the identity provider is listed, which is
// how a cluster that stored secrets before encryption was turned on keeps
// reading them.
//
// Providers: aesgcm (AES-GCM with a random 12-byte nonce per write and the
// etcd key as additional data; upstream advises rotating such a key before
// about 200,000 writes because random nonces may collide), secretbox
// (XSalsa20-Poly1305 with a random 24-byte nonce, safe for many more
// writes, and the default for generated configurations) and identity.
//
// Rotation (Store.Rotate) adds a new key in front of the write provider's
// keys, saves the configuration file, and rewrites every value of the
// encrypted resources so that they use it; old keys stay listed so that
// history still in etcd can be read.
package encrypt
