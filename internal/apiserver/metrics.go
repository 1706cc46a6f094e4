package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skiffkube/skiff/internal/storage"
)

// metrics are the server's Prometheus series, in a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watchers *prometheus.GaugeVec
	etcd     *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Counter of apiserver requests broken out by verb, group, version, resource, subresource and HTTP code.",
		}, []string{"verb", "group", "version", "resource", "subresource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_request_duration_seconds",
			Help:    "Response latency distribution in seconds by verb, group, version, resource and subresource.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 15, 30, 60},
		}, []string{"verb", "group", "version", "resource", "subresource"}),
		watchers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_registered_watchers",
			Help: "Number of currently registered watchers by group and resource.",
		}, []string{"group", "resource"}),
		etcd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "etcd_request_duration_seconds",
			Help:    "Etcd request latency in seconds by operation.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"operation"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.watchers, m.etcd,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) withMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		info := parseRequestInfo(r)
		verb := info.Verb
		if !info.IsResource {
			verb = r.Method
		}
		s.metrics.requests.WithLabelValues(verb, info.APIGroup, info.APIVersion, info.Resource, info.Subresource, fmt.Sprint(rec.code)).Inc()
		if verb != "watch" {
			s.metrics.latency.WithLabelValues(verb, info.APIGroup, info.APIVersion, info.Resource, info.Subresource).Observe(time.Since(start).Seconds())
		}
	})
}

// instrumentedStore times every store call.
type instrumentedStore struct {
	storage.Store
	m *metrics
}

func instrumentStore(s storage.Store, m *metrics) storage.Store {
	return &instrumentedStore{Store: s, m: m}
}

func (s *instrumentedStore) observe(op string, start time.Time) {
	s.m.etcd.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (s *instrumentedStore) Create(ctx context.Context, key string, value []byte) (int64, error) {
	defer s.observe("create", time.Now())
	return s.Store.Create(ctx, key, value)
}

func (s *instrumentedStore) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	defer s.observe("get", time.Now())
	return s.Store.Get(ctx, key)
}

func (s *instrumentedStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	defer s.observe("list", time.Now())
	return s.Store.List(ctx, prefix, opts)
}

func (s *instrumentedStore) Update(ctx context.Context, key string, value []byte, rev int64) (int64, error) {
	defer s.observe("update", time.Now())
	return s.Store.Update(ctx, key, value, rev)
}

func (s *instrumentedStore) Delete(ctx context.Context, key string, rev int64) (storage.KeyValue, int64, error) {
	defer s.observe("delete", time.Now())
	return s.Store.Delete(ctx, key, rev)
}
