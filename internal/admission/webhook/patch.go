package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
)

// applyPatch applies a JSONPatch answer to a.Object in place (the
// pointer is kept) and reports whether the object changed.
func applyPatch(a *Attributes, resp *admissionv1.AdmissionResponse) (bool, error) {
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		return false, fmt.Errorf("unsupported patch type %v", resp.PatchType)
	}
	if a.Object == nil {
		// Nothing to patch on a delete.
		return false, nil
	}
	cur := a.Object.DeepCopyObject()
	gvk := cur.GetObjectKind().GroupVersionKind()
	cur.GetObjectKind().SetGroupVersionKind(a.Kind)
	before, err := json.Marshal(cur)
	if err != nil {
		return false, fmt.Errorf("encoding the object: %w", err)
	}
	p, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		return false, fmt.Errorf("decoding the patch: %w", err)
	}
	after, err := p.Apply(before)
	if err != nil {
		return false, fmt.Errorf("applying the patch: %w", err)
	}
	if bytes.Equal(before, after) {
		return false, nil
	}
	v := reflect.ValueOf(a.Object)
	fresh := reflect.New(v.Type().Elem())
	if err := json.Unmarshal(after, fresh.Interface()); err != nil {
		return false, fmt.Errorf("decoding the patched object: %w", err)
	}
	v.Elem().Set(fresh.Elem())
	a.Object.GetObjectKind().SetGroupVersionKind(gvk)
	return !jsonEqual(before, after), nil
}

// jsonEqual compares two JSON documents regardless of key order.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
