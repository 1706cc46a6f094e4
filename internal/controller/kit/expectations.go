package kit

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
)

// ExpectationsTimeout is how long unobserved expectations are trusted: past
// it the controller syncs anyway, in case a watch event was lost.
const ExpectationsTimeout = 5 * time.Minute

// Expectations remembers, per controller key, the pod creations and
// deletions a controller issued and has not yet seen in its informer, so
// that a sync during watch lag does not create or delete twice.
type Expectations struct {
	mu    sync.Mutex
	now   func() time.Time
	items map[string]*expectation
}

type expectation struct {
	adds int
	dels sets.Set[string]
	at   time.Time
}

// NewExpectations returns empty expectations; now nil is time.Now.
func NewExpectations(now func() time.Time) *Expectations {
	if now == nil {
		now = time.Now
	}
	return &Expectations{now: now, items: map[string]*expectation{}}
}

// ExpectCreations records that n creations were issued for key.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.adds += n
	x.at = e.now()
}

// ExpectDeletions records the keys (namespace/name) of objects whose
// deletion was issued for key.
func (e *Expectations) ExpectDeletions(key string, objKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.dels.Insert(objKeys...)
	x.at = e.now()
}

// CreationObserved lowers key's pending creations by one (also used when a
// creation fails, since its event will never come).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved forgets a pending deletion of objKey for key.
func (e *Expectations) DeletionObserved(key, objKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.items[key]; ok {
		x.dels.Delete(objKey)
	}
}

// Satisfied reports whether key has nothing pending (or its expectations
// expired), i.e. whether the informer's view can be trusted for a sync.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.items[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && x.dels.Len() == 0 {
		return true
	}
	return e.now().Sub(x.at) > ExpectationsTimeout
}

// Forget drops key's expectations (when its object is deleted).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}

func (e *Expectations) get(key string) *expectation {
	x, ok := e.items[key]
	if !ok {
		x = &expectation{dels: sets.New[string]()}
		e.items[key] = x
	}
	return x
}
