// Package tables renders API objects as metav1.Table, the server-side
// printing behind `kubectl get` (Accept: application/json;as=Table;v=v1;
// g=meta.k8s.io). Every built-in type gets the columns, cell formats and
// -o wide extras that upstream Kubernetes serves; any other object gets the
// default NAME / CREATED AT table.
//
// The package is pure: the current time is an input (Options.Now), so AGE
// and RESTARTS cells are deterministic in tests.
package tables
