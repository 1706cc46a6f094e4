package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Percentiles summarises a set of durations.
type Percentiles struct {
	P50, P99 time.Duration
}

// percentiles returns the nearest-rank p50 and p99 of samples (zero for
// none). samples is not modified.
func percentiles(samples []time.Duration) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := func(p int) time.Duration {
		i := (p*len(sorted)+99)/100 - 1 // ceil(p/100 * n) - 1
		return sorted[max(0, min(i, len(sorted)-1))]
	}
	return Percentiles{P50: rank(50), P99: rank(99)}
}

// timeEach runs op n times one after the other and returns each duration.
func timeEach(n int, op func(i int) error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if err := op(i); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// latencies holds the sequential request latencies measured while the
// benchmark's pods exist.
type latencies struct {
	create, get, list Percentiles
}

// measureLatencies times single requests from one client: creates of new
// pods in spareNS, gets of pods spread over the existing ones, and lists of
// the first page of 500 pods of podNS.
func measureLatencies(ctx context.Context, cs kubernetes.Interface, podNS, spareNS string, existing, samples, lists int) (latencies, error) {
	var out latencies
	pods := cs.CoreV1().Pods(podNS)
	creates, err := timeEach(samples, func(i int) error {
		_, err := cs.CoreV1().Pods(spareNS).Create(ctx, BenchPod(spareNS, "latency-"+strconv.Itoa(i)), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("timing creates: %w", err)
	}
	gets, err := timeEach(samples, func(i int) error {
		// A stride coprime with most sizes visits pods all over the set.
		_, err := pods.Get(ctx, podName(i*7919%existing), metav1.GetOptions{})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("timing gets: %w", err)
	}
	pages, err := timeEach(lists, func(int) error {
		_, err := listRaw(ctx, cs, podNS, "500", nil)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("timing lists: %w", err)
	}
	return latencies{create: percentiles(creates), get: percentiles(gets), list: percentiles(pages)}, nil
}

// listRaw lists the pods of namespace with the given limit ("" for none)
// and resourceVersion (nil for unset) and returns the size of the response
// body, read in full but not decoded.
func listRaw(ctx context.Context, cs kubernetes.Interface, namespace, limit string, resourceVersion *string) (int, error) {
	req := cs.CoreV1().RESTClient().Get().Namespace(namespace).Resource("pods")
	if limit != "" {
		req = req.Param("limit", limit)
	}
	if resourceVersion != nil {
		req = req.Param("resourceVersion", *resourceVersion)
	}
	body, err := req.DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing pods of %s: %w", namespace, err)
	}
	return len(body), nil
}

// fullList is the timing of one list of every pod of a namespace.
type fullList struct {
	elapsed time.Duration
	bytes   int
}

// listAllRuns is how many times each full list is repeated; the median is
// reported.
const listAllRuns = 3

// timeFullLists lists every pod of namespace listAllRuns times with each
// of the given resourceVersions (nil: unset), taking turns so that no kind
// of list alone meets the server right after the load phase, and returns
// the median run of each.
func timeFullLists(ctx context.Context, cs kubernetes.Interface, namespace string, resourceVersions ...*string) ([]fullList, error) {
	runs := make([][]time.Duration, len(resourceVersions))
	out := make([]fullList, len(resourceVersions))
	for range listAllRuns {
		for i, rv := range resourceVersions {
			t0 := time.Now()
			n, err := listRaw(ctx, cs, namespace, "", rv)
			if err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], time.Since(t0))
			out[i].bytes = n
		}
	}
	for i := range out {
		slices.Sort(runs[i])
		out[i].elapsed = runs[i][len(runs[i])/2]
	}
	return out, nil
}

// podName is the name of the n-th pod of the load phase.
func podName(n int) string { return loadPrefix + "-" + strconv.Itoa(n) }
