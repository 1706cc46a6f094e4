package apiserver

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// maxInternedFields bounds the managed-fields sets kept by a fieldsInterner;
// beyond it the table starts afresh.
const maxInternedFields = 4096

// fieldsInterner shares the managed-fields sets (metadata.managedFields[].
// fieldsV1) of decoded objects: objects written by the same client have
// byte-identical sets, and the watch cache holds every object of a type,
// so sharing one copy saves a few KiB per object. Decoded objects are
// never changed in place (writers deep-copy first), and a deep copy gets
// its own bytes again. Safe for concurrent use.
type fieldsInterner struct {
	mu   sync.Mutex
	sets map[string]metav1.FieldsV1
}

func newFieldsInterner() *fieldsInterner {
	return &fieldsInterner{sets: map[string]metav1.FieldsV1{}}
}

// intern makes the managed-fields sets of obj share the bytes of earlier
// identical sets.
func (in *fieldsInterner) intern(obj runtime.Object) {
	m := objectMeta(obj)
	if m == nil {
		return
	}
	managed := m.GetManagedFields()
	if len(managed) == 0 {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range managed {
		f := managed[i].FieldsV1
		if f == nil {
			continue
		}
		raw := f.GetRawBytes()
		if shared, ok := in.sets[string(raw)]; ok {
			*f = shared // the same bytes, now shared
			continue
		}
		if len(in.sets) >= maxInternedFields {
			clear(in.sets)
		}
		in.sets[string(raw)] = *f
	}
}
