package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFieldsInterner(t *testing.T) {
	pod := func(sets ...string) *corev1.Pod {
		p := &corev1.Pod{}
		for _, s := range sets {
			p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{Manager: "m", FieldsV1: &metav1.FieldsV1{Raw: []byte(s)}})
		}
		return p
	}
	same := func(a, b *metav1.FieldsV1) bool { return &a.Raw[0] == &b.Raw[0] }
	cases := []struct {
		name      string
		first     *corev1.Pod
		second    *corev1.Pod
		wantShare []bool // per entry of second: shares bytes with first's entry i
	}{
		{"identical sets share bytes", pod(`{"f:spec":{}}`), pod(`{"f:spec":{}}`), []bool{true}},
		{"different sets keep their own", pod(`{"f:spec":{}}`), pod(`{"f:status":{}}`), []bool{false}},
		{"entries are matched one by one", pod(`{"a":{}}`, `{"b":{}}`), pod(`{"a":{}}`, `{"c":{}}`), []bool{true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newFieldsInterner()
			in.intern(tc.first)
			want := tc.second.DeepCopy()
			in.intern(tc.second)
			for i, share := range tc.wantShare {
				got := tc.second.ManagedFields[i].FieldsV1
				if same(got, tc.first.ManagedFields[i].FieldsV1) != share {
					t.Errorf("entry %d: sharing %v, want %v", i, !share, share)
				}
				if string(got.Raw) != string(want.ManagedFields[i].FieldsV1.Raw) {
					t.Errorf("entry %d: set changed to %s, want %s", i, got.Raw, want.ManagedFields[i].FieldsV1.Raw)
				}
			}
			if cp := tc.second.DeepCopy(); same(cp.ManagedFields[0].FieldsV1, tc.second.ManagedFields[0].FieldsV1) {
				t.Errorf("a deep copy shares the interned bytes")
			}
		})
	}
}
