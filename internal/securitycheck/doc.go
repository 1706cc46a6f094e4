// Package securitycheck runs the controls of the CIS Kubernetes Benchmark
// that apply to Skiff against a running server and its data directory, and
// reports PASS or FAIL with a reason for each. Controls are data (an ID, a
// title and a check); checks probe behaviour over the API and read files,
// so a control passes only when the server really behaves as it requires.
package securitycheck
