// Package e2e holds black-box tests of the built skiff binary: they start
// `skiff server` as a subprocess and drive it with the stock kubectl, the
// way a user would. They skip when kubectl is not on PATH.
package e2e
