package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/auth"
)

func TestNodeRestriction(t *testing.T) {
	n1 := &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	admin := &auth.User{Name: "admin", Groups: []string{"system:masters"}}
	mirror := func(node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "m", Annotations: map[string]string{mirrorPodAnnotation: "h"}}, Spec: corev1.PodSpec{NodeName: node}}
	}
	gr := schema.GroupResource{Resource: "pods"}
	cases := []struct {
		name   string
		user   *auth.User
		obj    runtime.Object
		update bool
		want   string // "" for allowed
	}{
		{"own mirror pod", n1, mirror("n1"), false, ""},
		{"mirror pod for another node", n1, mirror("n2"), false, `node "n1" can only create pods with spec.nodeName set to itself`},
		{"plain pod", n1, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: "n1"}}, false,
			`pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`},
		{"admin creates any pod", admin, &corev1.Pod{}, false, ""},
		{"own node", n1, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, true, ""},
		{"other node", n1, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, true, `node "n1" is not allowed to modify node "n2"`},
		{"pod spec update", n1, mirror("n1"), true, `node "n1" can only update pod status`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.update {
				err = admitNodeUpdate(gr, tc.user, tc.obj)
			} else {
				err = admitNodeCreate(gr, tc.user, tc.obj)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !apierrors.IsForbidden(err) {
				t.Fatalf("error %v, want Forbidden", err)
			}
			if got := err.(apierrors.APIStatus).Status().Message; got != `pods "`+objectMeta(tc.obj).GetName()+`" is forbidden: `+tc.want {
				t.Errorf("message %q, want %q", got, tc.want)
			}
		})
	}
}
