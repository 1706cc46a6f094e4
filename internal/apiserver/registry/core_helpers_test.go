package registry

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// coreErrKeys renders errors as "<Type> <field>" (Type without the
// "FieldValue" prefix), sorted and deduplicated.
func coreErrKeys(errs field.ErrorList) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range errs {
		k := strings.TrimPrefix(string(e.Type), "FieldValue") + " " + e.Field
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// coreExpectErrs fails unless errs render to exactly want (in any order).
func coreExpectErrs(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	sort.Strings(want)
	got := coreErrKeys(errs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got  %q\n want %q\n full: %v", got, want, errs.ToAggregate())
	}
}

func coreQty(s string) resource.Quantity { return resource.MustParse(s) }

// corePod returns a minimal valid pod, already defaulted.
func corePod() *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:         "app",
				Image:        "nginx:1.25",
				Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data"}},
		},
	}
	defaultPod(pod)
	return pod
}
