package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// Names used by the API benchmark.
const (
	loadNamespace    = "bench-pods"
	latencyNamespace = "bench-latency"
	watchNamespace   = "bench-watch"
	jsonNamespace    = "bench-json"
	loadPrefix       = "pod"
)

// RunAPI runs the API benchmark: it starts a skiff server as a child
// process, measures start-up, memory, pod create throughput, request
// latencies, full lists and watch fan-out, stops it, and then measures raw
// put throughput of a separate embedded etcd with the same value size.
func RunAPI(ctx context.Context, cfg Config) (*APIResults, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dir := cfg.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "skiff-bench-"); err != nil {
			return nil, fmt.Errorf("creating a work directory: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	res := &APIResults{Config: cfg, Changes: cfg.WatchChanges}
	cfg.Progress = &elapsedWriter{w: cfg.Progress, start: time.Now()}
	if err := runServerScenarios(ctx, cfg, dir, res); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "raw etcd: %d puts of %d and of %d bytes from %d workers\n", cfg.Pods, res.StoredPodBytes, res.SentPodBytes, cfg.Workers)
	rates, err := measureRawEtcd(ctx, filepath.Join(dir, "raw-etcd"), cfg.Workers, cfg.Pods, res.StoredPodBytes, res.SentPodBytes)
	if err != nil {
		return nil, err
	}
	res.RawPutsStored, res.RawPutsSent = rates[0], rates[1]
	return res, nil
}

// runServerScenarios runs every scenario that needs the server, which it
// starts and stops.
func runServerScenarios(ctx context.Context, cfg Config, dir string, res *APIResults) (err error) {
	fmt.Fprintf(cfg.Progress, "starting %s server\n", cfg.ServerBinary)
	p, err := startServer(cfg.ServerBinary, dir, apiServerFlags()...)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := p.stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()
	if res.ReadyAfter, err = p.waitReady(ctx); err != nil {
		return err
	}
	if res.IdleRSS, err = settledRSS(ctx, p, cfg.Settle); err != nil {
		return err
	}
	rc, err := p.restConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("benchmark client: %w", err)
	}
	for _, ns := range []string{loadNamespace, latencyNamespace, watchNamespace, jsonNamespace} {
		if err := createNamespace(ctx, cs, ns); err != nil {
			return err
		}
	}
	fmt.Fprintf(cfg.Progress, "creating %d pods from %d workers (protobuf)\n", cfg.Pods, cfg.Workers)
	proto, err := kubernetes.NewForConfig(unlimitedProtobuf(rc))
	if err != nil {
		return fmt.Errorf("benchmark protobuf client: %w", err)
	}
	var stats CreateStats
	res.CreateCPU, err = serverCPUPer(p, cfg.Pods, func() error {
		stats, err = CreatePods(ctx, proto, loadNamespace, loadPrefix, cfg.Workers, cfg.Pods)
		return err
	})
	if err != nil {
		return err
	}
	res.CreatesPerSecond, res.CreateUnderLoad = stats.PerSecond(), percentiles(stats.Latencies)
	if err := measureJSONCreates(ctx, cfg, cs, p, res); err != nil {
		return err
	}
	if res.StoredPodBytes, err = storedPodSize(ctx, cs); err != nil {
		return err
	}
	if res.SentPodBytes, err = sentPodSize(); err != nil {
		return err
	}
	if res.LoadedRSS, err = settledRSS(ctx, p, cfg.Settle); err != nil {
		return err
	}
	if err := runReadScenarios(ctx, cfg, cs, res); err != nil {
		return err
	}
	fmt.Fprintf(cfg.Progress, "watch fan-out to %d watchers\n", cfg.Watchers)
	fan, err := measureFanOut(ctx, rc, watchNamespace, cfg.Watchers, cfg.WatchChanges)
	if err != nil {
		return err
	}
	res.FanOut = percentiles(fan)
	_, res.PeakRSS, err = p.memory()
	return err
}

// measureJSONCreates creates a quarter of the load's pods again with a
// JSON client (client-go's default for kubectl-like tools) in a namespace
// of their own, then deletes them so that the memory figures still hold
// Config.Pods pods.
func measureJSONCreates(ctx context.Context, cfg Config, cs kubernetes.Interface, p *serverProcess, res *APIResults) error {
	res.JSONPods = max(1, cfg.Pods/4)
	fmt.Fprintf(cfg.Progress, "creating %d pods from %d workers (JSON)\n", res.JSONPods, cfg.Workers)
	var stats CreateStats
	cpu, err := serverCPUPer(p, res.JSONPods, func() (err error) {
		stats, err = CreatePods(ctx, cs, jsonNamespace, loadPrefix, cfg.Workers, res.JSONPods)
		return err
	})
	if err != nil {
		return err
	}
	res.JSONCreatesPerSecond, res.JSONCreateCPU = stats.PerSecond(), cpu
	if err := cs.CoreV1().Pods(jsonNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("deleting the JSON pods: %w", err)
	}
	return nil
}

// serverCPUPer runs op and returns the server's CPU time it took, divided
// by n. Unlike rates, CPU time hardly depends on what else the machine
// runs.
func serverCPUPer(p *serverProcess, n int, op func() error) (time.Duration, error) {
	before, err := p.cpuTime()
	if err != nil {
		return 0, err
	}
	if err := op(); err != nil {
		return 0, err
	}
	after, err := p.cpuTime()
	if err != nil {
		return 0, err
	}
	return (after - before) / time.Duration(n), nil
}

// runReadScenarios measures request latencies and full lists.
func runReadScenarios(ctx context.Context, cfg Config, cs kubernetes.Interface, res *APIResults) error {
	fmt.Fprintf(cfg.Progress, "timing single requests with %d pods\n", cfg.Pods)
	lat, err := measureLatencies(ctx, cs, loadNamespace, latencyNamespace, cfg.Pods, cfg.latencySamples(), cfg.listSamples())
	if err != nil {
		return err
	}
	res.Create, res.Get, res.List = lat.create, lat.get, lat.list
	fmt.Fprintf(cfg.Progress, "listing all %d pods\n", cfg.Pods)
	zero := "0"
	lists, err := timeFullLists(ctx, cs, loadNamespace, nil, &zero)
	if err != nil {
		return err
	}
	res.ListAll, res.ListAllBytes, res.ListAllRV0 = lists[0].elapsed, lists[0].bytes, lists[1].elapsed
	return nil
}

// settledRSS waits for settle, then reads the server's resident memory.
func settledRSS(ctx context.Context, p *serverProcess, settle time.Duration) (int64, error) {
	t := time.NewTimer(settle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	rss, _, err := p.memory()
	return rss, err
}

// storedPodSize is the size of one created pod as compact JSON, which is
// how it is stored in etcd.
func storedPodSize(ctx context.Context, cs kubernetes.Interface) (int, error) {
	body, err := cs.CoreV1().RESTClient().Get().Namespace(loadNamespace).Resource("pods").Name(podName(0)).DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading a created pod: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return 0, fmt.Errorf("reading a created pod: %w", err)
	}
	return compact.Len(), nil
}

// sentPodSize is the size of a BenchPod as a client sends it.
func sentPodSize() (int, error) {
	pod := BenchPod(loadNamespace, podName(0))
	pod.APIVersion, pod.Kind = "v1", "Pod"
	b, err := json.Marshal(pod)
	if err != nil {
		return 0, fmt.Errorf("encoding a pod: %w", err)
	}
	return len(b), nil
}

// measureRawEtcd starts an embedded etcd in dir, with the server's settings
// (fsync on), and measures its put rate with each value size in turn.
func measureRawEtcd(ctx context.Context, dir string, workers, total int, valueSizes ...int) ([]float64, error) {
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	client, err := etcd.NewClient(e.Endpoints(), nil)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	rates := make([]float64, 0, len(valueSizes))
	for _, size := range valueSizes {
		rate, err := etcd.MeasurePuts(ctx, client, workers, total, size)
		if err != nil {
			return nil, fmt.Errorf("raw etcd: %w", err)
		}
		rates = append(rates, rate)
	}
	return rates, nil
}

// elapsedWriter prefixes each write (one progress line) with the time since
// the run started.
type elapsedWriter struct {
	w     io.Writer
	start time.Time
}

func (e *elapsedWriter) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(e.w, "[%6.1fs] %s", time.Since(e.start).Seconds(), p); err != nil {
		return 0, err
	}
	return len(p), nil
}
