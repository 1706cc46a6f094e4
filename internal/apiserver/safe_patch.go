package apiserver

import (
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// The patch libraries panic on some malformed patches (found by
// FuzzApplyPatch). These wrappers return such a panic as an error, which
// the caller reports as a client error like any invalid patch.

// applyJSONPatch applies decoded JSON patch operations to doc. The library
// panics on e.g. [{"op":"replace","path":""}] (replace without a value).
func applyJSONPatch(ops jsonpatch.Patch, doc []byte) ([]byte, error) {
	return recoverPatch("json patch", func() ([]byte, error) { return ops.Apply(doc) })
}

// strategicMergePatch applies a strategic merge patch to original. The
// library panics on e.g. {"spec":{"containers":[{"name":[]}]}} (a list as
// the value of a merge key).
func strategicMergePatch(original, patch []byte, dataStruct any) ([]byte, error) {
	return recoverPatch("strategic merge patch", func() ([]byte, error) {
		return strategicpatch.StrategicMergePatch(original, patch, dataStruct)
	})
}

// recoverPatch runs apply and turns a panic into an error.
func recoverPatch(kind string, apply func() ([]byte, error)) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("invalid %s: %v", kind, r)
		}
	}()
	return apply()
}
