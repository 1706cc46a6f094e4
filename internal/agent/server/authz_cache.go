package server

import (
	"container/list"
	"time"
)

// decision is a remembered answer.
type decision struct {
	allowed bool
	reason  string
	expires time.Time
}

// decisionCache remembers answers until they expire, holding at most max
// of them and dropping the least recently used first. It is not safe for
// concurrent use.
type decisionCache struct {
	max int
	// order holds *cacheEntry, most recently used at the front.
	order   *list.List
	entries map[string]*list.Element
}

type cacheEntry struct {
	key string
	d   decision
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the answer under key if it has not expired at now.
func (c *decisionCache) get(key string, now time.Time) (decision, bool) {
	el, ok := c.entries[key]
	if !ok {
		return decision{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.d.expires) {
		c.remove(el)
		return decision{}, false
	}
	c.order.MoveToFront(el)
	return e.d, true
}

// put remembers d under key, evicting the least recently used answer
// when full.
func (c *decisionCache) put(key string, d decision) {
	if el, ok := c.entries[key]; ok {
		el.Value.(*cacheEntry).d = d
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Back())
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, d: d})
}

// len is the number of remembered answers, expired or not.
func (c *decisionCache) len() int { return c.order.Len() }

func (c *decisionCache) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}
