package agent

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// More waiting and event reasons of image pulls.
const (
	ReasonImagePullBackOff = "ImagePullBackOff"
	EventBackOffPullImage  = "BackOff"
)

// pullAction is what to do about a container's image.
type pullAction int

const (
	usePresent pullAction = iota // the image is there: use it
	pullImage                    // pull it (again)
	neverPull                    // absent, and the policy forbids pulling
)

// decidePull applies a pull policy ("" is the default for the image):
// Always pulls at every start (a failed pull fails the start even when
// the image is present, as upstream), IfNotPresent pulls when absent and
// Never never pulls.
func decidePull(policy corev1.PullPolicy, image string, present bool) pullAction {
	if policy == "" {
		policy = DefaultPullPolicy(image)
	}
	switch {
	case policy == corev1.PullAlways:
		return pullImage
	case present:
		return usePresent
	case policy == corev1.PullNever:
		return neverPull
	}
	return pullImage
}

// pullBackoff holds back the pulls of an image that failed for a pod:
// after a failure none is tried before the back-off (initial, doubling
// up to max) has passed. A failure 2×max after the previous one starts
// from initial again.
type pullBackoff struct {
	initial, max time.Duration
	entries      map[string]*pullFailure
}

// pullFailure is the state of one pod's image.
type pullFailure struct {
	delay   time.Duration
	last    time.Time
	message string
	// reported says the BackOff event of the current wait was written.
	reported bool
}

func pullKey(uid types.UID, image string) string { return string(uid) + "/" + image }

// waiting returns the failure holding back a pull at now, or nil.
func (b *pullBackoff) waiting(key string, now time.Time) *pullFailure {
	f := b.entries[key]
	if f == nil || !now.Before(f.last.Add(f.delay)) {
		return nil
	}
	return f
}

// failed records a failed pull at now and returns the wait before the
// next.
func (b *pullBackoff) failed(key, message string, now time.Time) time.Duration {
	if b.entries == nil {
		b.entries = map[string]*pullFailure{}
	}
	f := b.entries[key]
	switch {
	case f == nil || now.Sub(f.last) >= 2*b.max:
		f = &pullFailure{delay: b.initial}
		b.entries[key] = f
	default:
		f.delay = min(2*f.delay, b.max)
	}
	f.last, f.message, f.reported = now, message, false
	return f.delay
}

// succeeded forgets the failures of key.
func (b *pullBackoff) succeeded(key string) { delete(b.entries, key) }

// forget drops the entries of pods not in keep.
func (b *pullBackoff) forget(keep map[types.UID]bool) {
	for key := range b.entries {
		uid, _, _ := strings.Cut(key, "/")
		if !keep[types.UID(uid)] {
			delete(b.entries, key)
		}
	}
}
