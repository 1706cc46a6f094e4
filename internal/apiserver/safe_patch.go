package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// strategicMergePatch applies a strategic merge patch to original. The
// library panics on some malformed patches (a list or map as the value of a
// merge key, e.g. {"spec":{"containers":[{"name":[]}]}}); such a panic is
// returned as an error, which the caller reports as 400 Bad Request.
func strategicMergePatch(original, patch []byte, dataStruct any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("invalid patch: %v", r)
		}
	}()
	return strategicpatch.StrategicMergePatch(original, patch, dataStruct)
}
