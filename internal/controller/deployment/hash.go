package deployment

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/rand"
)

// templateHash is the pod-template-hash of a template: FNV-1a over its
// JSON, plus the collision count when there is one, rendered with the
// same safe alphabet upstream uses (no vowels, so no words).
func templateHash(tmpl *corev1.PodTemplateSpec, collisionCount *int32) (string, error) {
	b, err := json.Marshal(tmpl)
	if err != nil {
		return "", fmt.Errorf("hashing pod template: %w", err)
	}
	h := fnv.New32a()
	h.Write(b) // hash writes never fail
	if collisionCount != nil {
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], uint32(*collisionCount))
		h.Write(c[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10)), nil
}

// equalIgnoreHash reports whether two templates are the same but for the
// pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, hashLabel)
	delete(b.Labels, hashLabel)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return equality.Semantic.DeepEqual(a, b)
}
