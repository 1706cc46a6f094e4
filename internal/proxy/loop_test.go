package proxy

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// recordingApplier records what the loop asks of the kernel and fails
// the first failures calls.
type recordingApplier struct {
	mu       sync.Mutex
	calls    []applyCall
	failures int
	applied  chan struct{}
}

type applyCall struct {
	full     bool
	services int
	at       time.Time
}

func (a *recordingApplier) apply(_ context.Context, old, new *rules.RuleSet) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, applyCall{full: old == nil, services: len(new.Sets["service-ips"].Elements), at: time.Now()})
	defer func() {
		select {
		case a.applied <- struct{}{}:
		default:
		}
	}()
	if a.failures > 0 {
		a.failures--
		return errors.New("injected failure")
	}
	return nil
}

func (a *recordingApplier) cleanup(context.Context) error { return nil }

func (a *recordingApplier) snapshot() []applyCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]applyCall(nil), a.calls...)
}

// TestLoopBatchesChanges checks that the first sync is full, that a burst
// of changes is folded into few partial syncs spaced by MinSyncPeriod,
// that a failed sync is retried in full, and the metrics.
func TestLoopBatchesChanges(t *testing.T) {
	client := fake.NewClientset()
	reg := prometheus.NewRegistry()
	p, err := New(Config{Client: client, NodeName: "node-a", MinSyncPeriod: 200 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ap := &recordingApplier{applied: make(chan struct{}, 1), failures: 1}
	p.applier = ap
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- p.Run(runCtx) }()
	defer func() { stop(); <-done }()

	<-p.Ready() // after the injected failure and a retry one second later
	burst := time.Now()
	for i := range 20 {
		svc := testService("svc-"+string(rune('a'+i)), ipAt(10, 96, i+1))
		if _, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		slice := testSlice(svc.Name, ipAt(10, 128, i+1))
		if _, err := client.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		calls := ap.snapshot()
		if last := calls[len(calls)-1]; last.services == 20 {
			break
		}
		select {
		case <-ap.applied:
		case <-ctx.Done():
			t.Fatalf("never synced all Services: %+v", ap.snapshot())
		}
	}
	took := time.Since(burst)
	calls := ap.snapshot()
	if !calls[0].full || !calls[1].full {
		t.Errorf("first sync and its retry must be full: %+v", calls)
	}
	if gap := calls[1].at.Sub(calls[0].at); gap < 900*time.Millisecond {
		t.Errorf("retry after %v, want about 1s of back-off", gap)
	}
	for i := 2; i < len(calls); i++ {
		if calls[i].full {
			t.Errorf("sync %d is full", i)
		}
		if gap := calls[i].at.Sub(calls[i-1].at); gap < 190*time.Millisecond {
			t.Errorf("syncs %d and %d are %v apart, less than MinSyncPeriod", i-1, i, gap)
		}
	}
	// The spacing above bounds the syncs; check the changes were folded:
	// no more syncs than MinSyncPeriod allows over the burst, and never
	// more than one per change (20 Services and 20 slices), however slowly
	// a loaded machine creates them.
	if limit := 2 + int(took/(200*time.Millisecond)) + 1; len(calls) > limit || len(calls) > 2+40 {
		t.Errorf("%d syncs for one burst of changes over %v", len(calls), took)
	}
	if got := metricValue(t, reg, "skiff_proxy_syncs_total", "full", "error"); got != 1 {
		t.Errorf("failed full syncs = %v, want 1", got)
	}
	// one service-ips and one hairpin element per Service
	if got := metricValue(t, reg, "skiff_proxy_rules", "elements"); got != 40 {
		t.Errorf("elements gauge = %v, want 40", got)
	}
	if got := metricValue(t, reg, "skiff_proxy_sync_duration_seconds", "partial"); got != float64(len(calls)-2) {
		t.Errorf("partial sync observations = %v, want %d", got, len(calls)-2)
	}
}

// metricValue returns the value of the series of a family whose label
// values are exactly values (a histogram's sample count).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, values ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			labels := m.GetLabel()
			if len(labels) != len(values) {
				continue
			}
			for i, l := range labels { // sorted by label name: kind, result
				if l.GetValue() != values[i] {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no series %s%v", name, values)
	return 0
}
