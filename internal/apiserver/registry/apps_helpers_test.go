package registry

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Test helpers of the workload strategies.

// wlErrKeys turns errors into sorted "type:path" keys, with short type
// names: required, invalid, forbidden, notsupported, toomany, duplicate,
// toolong, notfound.
func wlErrKeys(errs field.ErrorList) []string {
	short := map[field.ErrorType]string{
		field.ErrorTypeRequired:     "required",
		field.ErrorTypeInvalid:      "invalid",
		field.ErrorTypeForbidden:    "forbidden",
		field.ErrorTypeNotSupported: "notsupported",
		field.ErrorTypeTooMany:      "toomany",
		field.ErrorTypeDuplicate:    "duplicate",
		field.ErrorTypeTooLong:      "toolong",
		field.ErrorTypeNotFound:     "notfound",
	}
	keys := make([]string, 0, len(errs))
	for _, e := range errs {
		name, ok := short[e.Type]
		if !ok {
			name = string(e.Type)
		}
		keys = append(keys, name+":"+e.Field)
	}
	slices.Sort(keys)
	return keys
}

// wlCheckErrs fails unless errs are exactly want (in any order).
func wlCheckErrs(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	got := wlErrKeys(errs)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors = %v, want %v\nfull: %v", got, want, strings.Join(wlErrStrings(errs), "\n"))
	}
}

func wlErrStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// wlPodTemplate returns an undefaulted pod template with labels and the
// restart policy given.
func wlPodTemplate(labels map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
		},
	}
}

// wlMeta returns the metadata of a namespaced object.
func wlMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: "0b0e5f5c-0000-4000-8000-000000000001"}
}

// wlAppLabels is the label set the test workloads select.
func wlAppLabels() map[string]string { return map[string]string{"app": "web"} }

// resourceMustParse parses a quantity for test fixtures.
func resourceMustParse(s string) resource.Quantity { return resource.MustParse(s) }
