package apiserver

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
)

// watchEncodings is how many encoded watch objects the server remembers.
// One change goes to every watcher of its resource within moments, so a
// short memory serves a fan-out to thousands of watchers.
const watchEncodings = 512

// encodingKey names one encoding of one object. The object is a pointer
// shared by the watch cache (never changed once stored); keeping it in the
// key also keeps it alive, so its address cannot be reused by another
// object while the entry exists.
type encodingKey struct {
	obj        runtime.Object
	serializer runtime.Identifier
}

// encodingCache remembers the most recent encodings of watch objects, so
// that an event is encoded once per representation however many watchers
// receive it. Safe for concurrent use.
type encodingCache struct {
	mu      sync.Mutex
	entries map[encodingKey][]byte
	// ring holds the keys in insertion order; next is the slot of the
	// next insertion (and of the oldest key once the ring is full).
	ring []encodingKey
	next int
}

func newEncodingCache(capacity int) *encodingCache {
	return &encodingCache{entries: make(map[encodingKey][]byte, capacity), ring: make([]encodingKey, capacity)}
}

// encode returns the encoding of obj by enc, from memory when obj was
// encoded by enc recently. The returned bytes must not be changed.
func (c *encodingCache) encode(enc runtime.Encoder, obj runtime.Object) ([]byte, error) {
	key := encodingKey{obj: obj, serializer: enc.Identifier()}
	c.mu.Lock()
	data, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := runtime.Encode(enc, obj)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return data, nil // another watcher got there first
	}
	if old := c.ring[c.next]; old.obj != nil {
		delete(c.entries, old)
	}
	c.ring[c.next] = key
	c.next = (c.next + 1) % len(c.ring)
	c.entries[key] = data
	return data, nil
}
