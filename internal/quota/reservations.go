package quota

import (
	"encoding/json"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ReservationsAnnotation holds, on a ResourceQuota, the charges admission
// made for objects whose creation may still be in flight. Admission
// charges status.used before the object is stored, so for a moment the
// charge exists while the object is nowhere to be seen; the quota
// controller must keep such a charge when it recomputes status.used, or
// a concurrent create could be admitted past the hard limit. The
// controller removes a reservation once its object has been seen (it is
// then counted as an object), and after ReservationTTL (a create that
// failed after admission).
const ReservationsAnnotation = "quota.skiff.io/reservations"

// ReservationTTL is how long a reservation whose object never showed up
// is kept: well past any create request's life.
const ReservationTTL = 2 * time.Minute

// Reservation is one admitted create's charge on one quota.
type Reservation struct {
	// UID and Name identify the object being created.
	UID  types.UID `json:"uid"`
	Name string    `json:"name,omitempty"`
	// Resource is the object's resource ("pods", "configmaps", ...).
	Resource string `json:"resource"`
	// Charge is what the object added to status.used.
	Charge corev1.ResourceList `json:"charge"`
	// At is when admission charged it (Unix seconds).
	At int64 `json:"at"`
}

// Reservations returns q's reservations; a malformed annotation yields
// none.
func Reservations(q *corev1.ResourceQuota) []Reservation {
	v, ok := q.Annotations[ReservationsAnnotation]
	if !ok || v == "" {
		return nil
	}
	var out []Reservation
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil
	}
	return out
}

// SetReservations stores rs on q, removing the annotation when rs is
// empty.
func SetReservations(q *corev1.ResourceQuota, rs []Reservation) {
	if len(rs) == 0 {
		delete(q.Annotations, ReservationsAnnotation)
		return
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return // a ResourceList always marshals
	}
	if q.Annotations == nil {
		q.Annotations = map[string]string{}
	}
	q.Annotations[ReservationsAnnotation] = string(b)
}

// SplitReservations sorts q's reservations at now into those still in
// force and those to drop: done reports the ones whose object was seen
// (counted, or seen deleted); expired ones are dropped too.
func SplitReservations(rs []Reservation, now time.Time, done func(Reservation) bool) (keep, drop []Reservation) {
	for _, r := range rs {
		if done(r) || now.Sub(time.Unix(r.At, 0)) > ReservationTTL {
			drop = append(drop, r)
			continue
		}
		keep = append(keep, r)
	}
	return keep, drop
}

// AddReserved adds the charges of rs to used, for the resources used
// already reports.
func AddReserved(used corev1.ResourceList, rs []Reservation) {
	for _, r := range rs {
		for name, c := range r.Charge {
			if v, ok := used[name]; ok {
				v.Add(c)
				used[name] = v
			}
		}
	}
}

// Lowers reports whether next is below cur for some resource cur
// reports.
func Lowers(next, cur corev1.ResourceList) bool {
	return slices.ContainsFunc(keys(cur), func(name corev1.ResourceName) bool {
		n, ok := next[name]
		c := cur[name]
		return ok && n.Cmp(c) < 0
	})
}

func keys(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	return out
}
