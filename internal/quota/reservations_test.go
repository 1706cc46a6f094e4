package quota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func pods(n int64) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(n, resource.DecimalSI)}
}

func TestReservations(t *testing.T) {
	now := time.Unix(1000, 0)
	rs := []Reservation{
		{UID: "seen", Resource: "pods", Charge: pods(1), At: 990},
		{UID: "inflight", Resource: "pods", Charge: pods(1), At: 995},
		{UID: "old", Resource: "pods", Charge: pods(1), At: now.Add(-ReservationTTL - time.Second).Unix()},
	}
	q := &corev1.ResourceQuota{}
	SetReservations(q, rs)
	if got := Reservations(q); len(got) != 3 || got[1].UID != "inflight" {
		t.Fatalf("round trip %+v", got)
	}
	keep, drop := SplitReservations(Reservations(q), now, func(r Reservation) bool { return r.UID == "seen" })
	if len(keep) != 1 || keep[0].UID != "inflight" || len(drop) != 2 {
		t.Fatalf("keep %+v drop %+v", keep, drop)
	}
	used := pods(2)
	AddReserved(used, keep)
	if v := used[corev1.ResourcePods]; v.Value() != 3 {
		t.Errorf("used with reservations %s, want 3", v.String())
	}
	SetReservations(q, nil)
	if _, ok := q.Annotations[ReservationsAnnotation]; ok {
		t.Error("empty reservations kept the annotation")
	}
	q.Annotations[ReservationsAnnotation] = "{bad"
	if got := Reservations(q); got != nil {
		t.Errorf("malformed annotation gave %+v", got)
	}
}

func TestLowers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		next, cur corev1.ResourceList
		want      bool
	}{
		{"equal", pods(3), pods(3), false},
		{"raise", pods(4), pods(3), false},
		{"lower", pods(2), pods(3), true},
		{"resource no longer limited", corev1.ResourceList{}, pods(3), false},
		{"new resource", pods(1), corev1.ResourceList{}, false},
	} {
		if got := Lowers(tc.next, tc.cur); got != tc.want {
			t.Errorf("%s: Lowers = %v, want %v", tc.name, got, tc.want)
		}
	}
}
