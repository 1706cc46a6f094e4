package apiserver

import (
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// countingEncoder writes an object's name and counts its calls.
type countingEncoder struct {
	id    runtime.Identifier
	calls int
}

func (e *countingEncoder) Encode(obj runtime.Object, w io.Writer) error {
	e.calls++
	_, err := io.WriteString(w, string(e.id)+":"+obj.(*corev1.Pod).Name)
	return err
}

func (e *countingEncoder) Identifier() runtime.Identifier { return e.id }

func TestEncodingCache(t *testing.T) {
	pod := func(name string) *corev1.Pod { return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	a, b, c := pod("a"), pod("b"), pod("c")
	json, proto := &countingEncoder{id: "json"}, &countingEncoder{id: "proto"}
	type step struct {
		enc       *countingEncoder
		obj       runtime.Object
		want      string
		wantCalls int // calls of enc after the step
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"second encoding comes from memory", []step{{json, a, "json:a", 1}, {json, a, "json:a", 1}}},
		{"each serializer has its own entry", []step{{json, a, "json:a", 1}, {proto, a, "proto:a", 1}, {proto, a, "proto:a", 1}}},
		{"an equal but distinct object is encoded again", []step{{json, a, "json:a", 1}, {json, pod("a"), "json:a", 2}}},
		{"the oldest entry is forgotten beyond the capacity", []step{
			{json, a, "json:a", 1}, {json, b, "json:b", 2}, {json, c, "json:c", 3}, // a is evicted
			{json, c, "json:c", 3}, {json, a, "json:a", 4},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			json.calls, proto.calls = 0, 0
			cache := newEncodingCache(2)
			for i, s := range tc.steps {
				got, err := cache.encode(s.enc, s.obj)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if string(got) != s.want || s.enc.calls != s.wantCalls {
					t.Errorf("step %d: got %q after %d calls, want %q after %d", i, got, s.enc.calls, s.want, s.wantCalls)
				}
			}
			if len(cache.entries) > 2 {
				t.Errorf("cache holds %d entries, capacity 2", len(cache.entries))
			}
		})
	}
}
