// Package volume prepares a pod's volumes on the node and turns its
// containers' volumeMounts into runtime mounts.
//
// The content of API-backed volumes (configMap, secret, downwardAPI,
// projected) is computed purely by Contents from objects the caller
// fetched (Needs says which); Mounts is pure too. Manager does the file
// system work: volumes live under <root>/<pod uid>/volumes/<plugin>/<name>,
// where <plugin> is upstream's directory name (kubernetes.io~configmap,
// ...). API-backed volumes are written atomically as the kubelet does: the
// files go to a fresh timestamped directory, a "..data" symlink is swapped
// to it with a rename, and each top-level entry is a symlink through
// "..data", so a reader sees the old set or the new set, never a mix.
package volume
