package proxy

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// metrics are the proxy's Prometheus series.
type metrics struct {
	// syncDuration is the time of a sync (compute and apply) by kind
	// (full or partial).
	syncDuration *prometheus.HistogramVec
	// syncs counts syncs by kind and result (ok or error).
	syncs *prometheus.CounterVec
	// ruleCount is the size of the programmed rule set by what is counted
	// (chains, rules, elements).
	ruleCount *prometheus.GaugeVec
	// lastSync is the Unix time of the last successful sync.
	lastSync prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skiff_proxy_sync_duration_seconds",
			Help:    "Time to compute and program the service rules, by kind of sync (full or partial).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_proxy_syncs_total",
			Help: "Syncs of the service rules, by kind (full or partial) and result (ok or error).",
		}, []string{"kind", "result"}),
		ruleCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skiff_proxy_rules",
			Help: "Size of the programmed service rule set: chains, rules and set elements.",
		}, []string{"kind"}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_proxy_last_sync_timestamp_seconds",
			Help: "Unix time of the last successful sync of the service rules.",
		}),
	}
	for _, c := range []prometheus.Collector{m.syncDuration, m.syncs, m.ruleCount, m.lastSync} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("proxy metrics: %w", err)
		}
	}
	return m, nil
}

// observe records one sync.
func (m *metrics) observe(full bool, took time.Duration, err error) {
	kind, result := "partial", "ok"
	if full {
		kind = "full"
	}
	if err != nil {
		result = "error"
	}
	m.syncs.WithLabelValues(kind, result).Inc()
	if err == nil {
		m.syncDuration.WithLabelValues(kind).Observe(took.Seconds())
		m.lastSync.SetToCurrentTime()
	}
}

// count records the size of the programmed rule set.
func (m *metrics) count(r *rules.RuleSet) {
	rulesN, elements := 0, 0
	for _, c := range r.Chains {
		rulesN += len(c.Rules)
	}
	for _, s := range r.Sets {
		elements += len(s.Elements)
	}
	m.ruleCount.WithLabelValues("chains").Set(float64(len(r.Chains)))
	m.ruleCount.WithLabelValues("rules").Set(float64(rulesN))
	m.ruleCount.WithLabelValues("elements").Set(float64(elements))
}
