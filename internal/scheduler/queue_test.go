package scheduler

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

func testPod(name string, prio int32, created int) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name,
		CreationTimestamp: metav1.NewTime(time.Unix(int64(created), 0))},
		Spec: corev1.PodSpec{Priority: &prio}}
}

// popNow pops without waiting; "" when nothing is active.
func popNow(t *testing.T, q *Queue) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.mu.Lock()
	q.flush()
	n := q.active.Len()
	q.mu.Unlock()
	if n == 0 {
		return ""
	}
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("pop: %v", err)
	}
	return qp.Pod.Name
}

func TestQueueOrder(t *testing.T) {
	q := NewQueue(clocktesting.NewFakeClock(time.Unix(1000, 0)))
	q.Add(testPod("low-old", 0, 1))
	q.Add(testPod("high-new", 100, 5))
	q.Add(testPod("low-new", 0, 3))
	q.Add(testPod("high-old", 100, 2))
	var got []string
	for name := popNow(t, q); name != ""; name = popNow(t, q) {
		got = append(got, name)
	}
	want := []string{"high-old", "high-new", "low-old", "low-new"}
	if len(got) != len(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestBackoffFor(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {50, 10 * time.Second}} {
		if got := backoffFor(tc.attempts); got != tc.want {
			t.Errorf("backoffFor(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

// TestQueueUnschedulable: a failed pod waits for a cluster event, then for
// its back-off; a pod that failed while an event happened backs off only.
func TestQueueUnschedulable(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	q := NewQueue(clk)
	q.Add(testPod("a", 0, 1))
	qp, _ := q.Pop(context.Background())
	q.Requeue(qp, true)
	if _, _, u, _ := q.Len(); u != 1 {
		t.Fatalf("unschedulable = %d, want 1", u)
	}
	clk.Step(20 * time.Second)
	if got := popNow(t, q); got != "" {
		t.Fatalf("popped %q without a cluster event", got)
	}
	q.MoveAll() // back-off (1 s) is over: active at once
	if got := popNow(t, q); got != "a" {
		t.Fatalf("after MoveAll popped %q, want a", got)
	}
	// Second failure: 2 s back-off; an event during the attempt.
	qp = q.inFlight["ns/a"]
	q.MoveAll()
	q.Requeue(qp, true)
	if a, b, u, _ := q.Len(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("len = %d active %d backoff %d unschedulable, want backoff 1", a, b, u)
	}
	clk.Step(1999 * time.Millisecond)
	if got := popNow(t, q); got != "" {
		t.Fatalf("popped %q during back-off", got)
	}
	clk.Step(time.Millisecond)
	if got := popNow(t, q); got != "a" {
		t.Fatalf("after back-off popped %q, want a", got)
	}
	q.Done(q.inFlight["ns/a"])
	if a, b, u, f := q.Len(); a+b+u+f != 0 {
		t.Fatalf("queue not empty after Done: %d %d %d %d", a, b, u, f)
	}
}

func TestQueueDeleteAndUpdate(t *testing.T) {
	q := NewQueue(clocktesting.NewFakeClock(time.Unix(1000, 0)))
	q.Add(testPod("a", 0, 1))
	q.Add(testPod("b", 0, 2))
	q.Delete("ns", "a")
	q.Add(testPod("b", 5, 2)) // update in place
	if got := popNow(t, q); got != "b" {
		t.Fatalf("popped %q, want b", got)
	}
	if got := popNow(t, q); got != "" {
		t.Fatalf("popped deleted pod %q", got)
	}
}

func TestQueuePopWaits(t *testing.T) {
	q := NewQueue(clocktesting.NewFakeClock(time.Unix(1000, 0)))
	got := make(chan string, 1)
	go func() {
		qp, err := q.Pop(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- qp.Pod.Name
	}()
	q.Add(testPod("late", 0, 1))
	if name := <-got; name != "late" {
		t.Fatalf("Pop returned %q, want late", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Pop(ctx); err == nil {
		t.Fatal("Pop on an empty queue with a done context returned no error")
	}
}

func TestResolvePriority(t *testing.T) {
	never := corev1.PreemptNever
	classes := []*schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000, PreemptionPolicy: &never},
		{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Value: 7, GlobalDefault: true},
	}
	set := int32(42)
	for _, tc := range []struct {
		name, class string
		preset      *int32
		classes     []*schedulingv1.PriorityClass
		want        int32
		wantNever   bool
	}{
		{name: "named class", class: "high", classes: classes, want: 1000, wantNever: true},
		{name: "global default", classes: classes, want: 7},
		{name: "no default", classes: classes[:1], want: 0},
		{name: "already set", class: "high", preset: &set, classes: classes, want: 42},
		{name: "built-in critical", class: "system-node-critical", want: systemNodeCritical},
		{name: "unknown class", class: "nope", classes: classes, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: tc.class, Priority: tc.preset}}
			got := resolvePriority(p, tc.classes)
			if *got.Spec.Priority != tc.want {
				t.Errorf("priority %d, want %d", *got.Spec.Priority, tc.want)
			}
			never := got.Spec.PreemptionPolicy != nil && *got.Spec.PreemptionPolicy == corev1.PreemptNever
			if never != tc.wantNever {
				t.Errorf("preemptionPolicy Never = %v, want %v", never, tc.wantNever)
			}
			if tc.preset == nil && p.Spec.Priority != nil {
				t.Error("the input pod was modified")
			}
		})
	}
}
