// Package images holds the sources of the small container images Skiff
// builds itself (see internal/image): pause, the sandbox process; and
// testserver, the HTTP server the tests run in pods. Busybox comes from
// the host's busybox-static package.
package images
