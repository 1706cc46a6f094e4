package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Scraping of the agents' /stats/summary for the resource metrics API.
const (
	// metricsCacheTTL is how long one scrape of every node serves.
	metricsCacheTTL = 10 * time.Second
	// metricsNodeTimeout bounds fetching one node's summary.
	metricsNodeTimeout = 5 * time.Second
	// metricsScrapeParallelism bounds the nodes fetched at once.
	metricsScrapeParallelism = 32
	// metricsWindow is the window reported with every sample: agents
	// derive CPU rates over about their 10 s sampling interval.
	metricsWindow = 10 * time.Second
	// maxSummaryBytes bounds a summary read from an agent.
	maxSummaryBytes = 32 << 20
)

// summary is the part of a node agent's /stats/summary (upstream's
// Summary API) that the resource metrics API uses.
type summary struct {
	Node struct {
		CPU    *summaryCPU    `json:"cpu"`
		Memory *summaryMemory `json:"memory"`
	} `json:"node"`
	Pods []summaryPod `json:"pods"`
}

type summaryPod struct {
	PodRef struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		UID       string `json:"uid"`
	} `json:"podRef"`
	Containers []struct {
		Name   string         `json:"name"`
		CPU    *summaryCPU    `json:"cpu"`
		Memory *summaryMemory `json:"memory"`
	} `json:"containers"`
}

type summaryCPU struct {
	Time           metav1.Time `json:"time"`
	UsageNanoCores *uint64     `json:"usageNanoCores"`
}

type summaryMemory struct {
	Time            metav1.Time `json:"time"`
	WorkingSetBytes *uint64     `json:"workingSetBytes"`
}

// metricsScraper fetches every node's summary and keeps the result for
// metricsCacheTTL. Concurrent callers share one scrape.
type metricsScraper struct {
	s   *Server
	now func() time.Time

	mu      sync.Mutex
	scraped time.Time
	// nodes holds the summaries of the nodes that answered, by name.
	nodes map[string]*summary
}

// summaries returns the node summaries, scraping if the cache is stale.
// The scrape does not end with the request that started it.
func (m *metricsScraper) summaries(ctx context.Context) (map[string]*summary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes != nil && m.now().Sub(m.scraped) < metricsCacheTTL {
		return m.nodes, nil
	}
	nodes, err := m.scrape(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	m.nodes, m.scraped = nodes, m.now()
	return nodes, nil
}

// scrape lists the Nodes and fetches the summaries of the ready ones in
// parallel. Nodes that fail are left out (and logged).
func (m *metricsScraper) scrape(ctx context.Context) (map[string]*summary, error) {
	rs := m.s.stores[schema.GroupVersionResource{Version: "v1", Resource: "nodes"}]
	items, _, err := m.s.listItems(ctx, rs, "", metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*summary, len(items))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, metricsScrapeParallelism)
	for _, obj := range items {
		node := obj.(*corev1.Node)
		base := kubeletBase(node)
		if base == "" || !nodeReady(node) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sum, err := m.fetch(ctx, base)
			if err != nil {
				m.s.cfg.Logger.Debug("scraping node stats", "node", node.Name, "err", err)
				return
			}
			mu.Lock()
			out[node.Name] = sum
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, nil
}

// fetch reads one agent's summary.
func (m *metricsScraper) fetch(ctx context.Context, base string) (*summary, error) {
	ctx, cancel := context.WithTimeout(ctx, metricsNodeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/stats/summary", nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.s.kubeletClient().Transport().RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSummaryBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the summary: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("summary: %s: %.200s", resp.Status, body)
	}
	var sum summary
	if err := json.Unmarshal(body, &sum); err != nil {
		return nil, fmt.Errorf("decoding the summary: %w", err)
	}
	return &sum, nil
}

// kubeletBase is the base URL of a node's agent endpoint, "" when the
// node has no address.
func kubeletBase(n *corev1.Node) string {
	host := nodeAddress(n)
	if host == "" {
		return ""
	}
	port := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = DefaultKubeletPort
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
