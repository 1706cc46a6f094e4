package bench

import (
	"fmt"
	"strings"
	"time"
)

// APIResults are the figures of one RunAPI.
type APIResults struct {
	Config Config
	// ReadyAfter is the time from process start to the first passing
	// /readyz.
	ReadyAfter time.Duration
	// IdleRSS is the server's resident memory once ready and idle.
	IdleRSS int64
	// SentPodBytes is the size of one pod as sent by the client (JSON);
	// StoredPodBytes the size of one pod as the server stores it (with
	// defaults and managed fields).
	SentPodBytes, StoredPodBytes int
	// CreatesPerSecond is the pod create rate of Config.Workers workers
	// speaking protobuf.
	CreatesPerSecond float64
	// JSONCreatesPerSecond is the create rate of JSONPods more pods from
	// the same number of workers speaking JSON.
	JSONCreatesPerSecond float64
	JSONPods             int
	// CreateCPU and JSONCreateCPU are the server's CPU time per create
	// (API server, embedded etcd and controllers together).
	CreateCPU, JSONCreateCPU time.Duration
	// CreateUnderLoad are the create latencies seen by those workers.
	CreateUnderLoad Percentiles
	// RawPutsSent and RawPutsStored are the put rates of a separate
	// embedded etcd with values of SentPodBytes and StoredPodBytes.
	RawPutsSent, RawPutsStored float64
	// Create, Get and List are sequential request latencies while the
	// pods exist; List asks for pages of 500.
	Create, Get, List Percentiles
	// ListAll and ListAllRV0 are the times of one list of every pod, with
	// resourceVersion unset (consistent) and "0"; ListAllBytes is the
	// response size.
	ListAll, ListAllRV0 time.Duration
	ListAllBytes        int
	// LoadedRSS is the server's resident memory holding the pods; PeakRSS
	// the highest resident memory of the whole run.
	LoadedRSS, PeakRSS int64
	// FanOut is the time for one update to reach every watcher.
	FanOut Percentiles
	// Changes is the number of fan-out changes timed.
	Changes int
}

// Row is one line of the results table.
type Row struct {
	Measurement, Skiff, Reference string
}

// Reference figures of kube-apiserver v1.36 with etcd, measured on the same
// machine (from the project's goals).
const (
	refReady      = "2.4 s"
	refIdleRSS    = "264 MB"
	refCreates    = "~1,050/s"
	refRawPuts    = "~5,800/s"
	refRatio      = "~18% (target ≥ 50%)"
	refLoadedRSS  = "640–830 MB"
	refNotMeasure = "–"
)

// Rows returns the table lines in order.
func (r *APIResults) Rows() []Row {
	c := r.Config
	return []Row{
		{"/readyz passing after process start", seconds(r.ReadyAfter), refReady},
		{"Server RSS, idle", megabytes(r.IdleRSS), refIdleRSS},
		{fmt.Sprintf("Pod creates/s, %d workers, %d pods, protobuf (%s JSON sent, %s stored)", c.Workers, c.Pods, kib(r.SentPodBytes), kib(r.StoredPodBytes)), perSecond(r.CreatesPerSecond), refCreates},
		{fmt.Sprintf("Pod creates/s, %d workers, %d more pods, JSON", c.Workers, r.JSONPods), perSecond(r.JSONCreatesPerSecond), refNotMeasure},
		{"Server CPU time per create (protobuf; JSON)", millis(r.CreateCPU) + "; " + millis(r.JSONCreateCPU), refNotMeasure},
		{fmt.Sprintf("Raw etcd puts/s, %d workers, %s values (pod as stored)", c.Workers, kib(r.StoredPodBytes)), perSecond(r.RawPutsStored), refRawPuts},
		{fmt.Sprintf("Raw etcd puts/s, %d workers, %s values (pod as sent)", c.Workers, kib(r.SentPodBytes)), perSecond(r.RawPutsSent), refNotMeasure},
		{"API creates / raw etcd puts (stored size; sent size)", ratio(r.CreatesPerSecond, r.RawPutsStored) + "; " + ratio(r.CreatesPerSecond, r.RawPutsSent), refRatio},
		{fmt.Sprintf("Create latency p50 / p99 under load (%d workers)", c.Workers), pair(r.CreateUnderLoad), refNotMeasure},
		{fmt.Sprintf("Create latency p50 / p99, one client, %d pods exist", c.Pods), pair(r.Create), refNotMeasure},
		{"Get latency p50 / p99, one client", pair(r.Get), refNotMeasure},
		{"List (limit=500) latency p50 / p99, one client", pair(r.List), refNotMeasure},
		{fmt.Sprintf("List all %d pods, resourceVersion unset (%s)", c.Pods, megabytes(int64(r.ListAllBytes))), millis(r.ListAll), refNotMeasure},
		{fmt.Sprintf("List all %d pods, resourceVersion=0", c.Pods), millis(r.ListAllRV0), refNotMeasure},
		{fmt.Sprintf("Server RSS holding %d pods", c.Pods), megabytes(r.LoadedRSS), refLoadedRSS},
		{"Server peak RSS (VmHWM) over the run", megabytes(r.PeakRSS), refNotMeasure},
		{fmt.Sprintf("One update reaching all %d watchers, p50 / p99 of %d", c.Watchers, r.Changes), pair(r.FanOut), refNotMeasure},
	}
}

// Markdown renders the results as a Markdown table.
func (r *APIResults) Markdown() string {
	var b strings.Builder
	b.WriteString("| Measurement | Skiff | kube-apiserver v1.36 (reference) |\n")
	b.WriteString("|---|---:|---:|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row.Measurement, row.Skiff, row.Reference)
	}
	return b.String()
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func pair(p Percentiles) string { return millis(p.P50) + " / " + millis(p.P99) }

func megabytes(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func kib(b int) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }

func perSecond(v float64) string {
	n := int64(v + 0.5)
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + "/s"
}
