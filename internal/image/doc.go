// Package image builds the small images Skiff ships for itself (the pause
// image, busybox and the skiff-test server) as OCI image-layout tarballs,
// in pure Go, and imports image tarballs into a containerd, unpacked for
// its snapshotter, in the namespace the CRI plugin uses ("k8s.io"), so the
// node runs pods without any registry.
package image
