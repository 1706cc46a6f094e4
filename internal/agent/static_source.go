package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// manifestFetchTimeout bounds one GET of the manifest URL.
const manifestFetchTimeout = 10 * time.Second

// manifestMaxBytes bounds what is read of a manifest.
const manifestMaxBytes = 10 << 20

// staticSource reads static pods from a manifest directory and a URL,
// every interval, on a goroutine owned by the agent's Run. The agent's
// loop takes snapshots; changed is called when the set of pods changes.
type staticSource struct {
	dir, url, node string
	interval       time.Duration
	clock          clock.WithTicker
	client         *http.Client
	log            *slog.Logger
	changed        func()

	mu sync.Mutex
	// files are the pods last read from each file; a file that stops
	// parsing keeps its last pods until it is removed or fixed.
	files map[string][]*corev1.Pod
	// remote are the pods last fetched from the URL; fetched says one
	// fetch succeeded.
	remote  []*corev1.Pod
	fetched bool
	// dirRead says the directory was read once.
	dirRead bool
	// seen is when each pod was first seen (config.seen).
	seen map[types.UID]string
	// key names the current set of pods, to tell changes.
	key string
}

func newStaticSource(cfg Config, changed func()) *staticSource {
	if cfg.ManifestDir == "" && cfg.ManifestURL == "" {
		return nil
	}
	return &staticSource{
		dir: cfg.ManifestDir, url: cfg.ManifestURL, node: cfg.NodeName,
		interval: cfg.ManifestCheckInterval, clock: cfg.Clock, log: cfg.Logger,
		client:  &http.Client{Timeout: manifestFetchTimeout},
		changed: changed,
		files:   map[string][]*corev1.Pod{},
		seen:    map[types.UID]string{},
	}
}

// run polls the sources until ctx ends.
func (s *staticSource) run(ctx context.Context) {
	t := s.clock.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// poll reads every source once and signals if the pods changed.
func (s *staticSource) poll(ctx context.Context) {
	if s.dir != "" {
		s.readDir()
	}
	if s.url != "" {
		pods, err := s.fetch(ctx)
		s.mu.Lock()
		if err != nil {
			warn(ctx, s.log, "reading static pods", "url", s.url, "err", err)
		} else {
			s.remote, s.fetched = pods, true
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	_, key := s.mergeLocked()
	changed := key != s.key
	s.key = key
	s.mu.Unlock()
	if changed {
		s.changed()
	}
}

// readDir parses every manifest of the directory (hidden files and
// subdirectories are skipped; a missing directory holds no pods).
func (s *staticSource) readDir() {
	entries, err := os.ReadDir(s.dir)
	if err != nil && !os.IsNotExist(err) {
		s.log.Warn("reading static pod directory", "dir", s.dir, "err", err)
		return
	}
	found := map[string][]*corev1.Pod{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		pods, err := readManifest(path, s.node)
		if err != nil {
			s.log.Warn("reading static pod manifest", "file", path, "err", err)
			s.mu.Lock()
			found[path] = s.files[path]
			s.mu.Unlock()
			continue
		}
		found[path] = pods
	}
	s.mu.Lock()
	s.files, s.dirRead = found, true
	s.mu.Unlock()
}

func readManifest(path, node string) ([]*corev1.Pod, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, manifestMaxBytes))
	if err != nil {
		return nil, err
	}
	return ManifestPods(data, SourceFile, path, node)
}

// fetch GETs the manifest URL.
func (s *staticSource) fetch(ctx context.Context) ([]*corev1.Pod, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, manifestMaxBytes))
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil
	}
	return ManifestPods(data, SourceHTTP, s.url, s.node)
}

// snapshot returns the current static pods and whether every source was
// read once (until then, pods of an unread source are unknown).
func (s *staticSource) snapshot() ([]*corev1.Pod, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pods, _ := s.mergeLocked()
	ready := (s.dir == "" || s.dirRead) && (s.url == "" || s.fetched)
	return pods, ready
}

// mergeLocked lists the pods of all sources (files by path, then the
// URL), dropping a pod whose namespace and name an earlier one has, and
// stamps config.seen. It returns them and a key naming the set.
func (s *staticSource) mergeLocked() ([]*corev1.Pod, string) {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var all []*corev1.Pod
	for _, p := range paths {
		all = append(all, s.files[p]...)
	}
	all = append(all, s.remote...)
	names := map[string]bool{}
	keep := map[types.UID]bool{}
	out := make([]*corev1.Pod, 0, len(all))
	var key strings.Builder
	for _, p := range all {
		full := p.Namespace + "/" + p.Name
		if names[full] || keep[p.UID] {
			s.log.Warn("static pod name used twice; ignoring the second", "pod", full)
			continue
		}
		names[full], keep[p.UID] = true, true
		seen, ok := s.seen[p.UID]
		if !ok {
			seen = s.clock.Now().UTC().Format(time.RFC3339Nano)
			s.seen[p.UID] = seen
		}
		if p.Annotations[AnnotationConfigSeen] != seen {
			p.Annotations[AnnotationConfigSeen] = seen // before the pod is handed out
		}
		out = append(out, p)
		key.WriteString(string(p.UID) + ",")
	}
	for uid := range s.seen {
		if !keep[uid] {
			delete(s.seen, uid)
		}
	}
	return out, key.String()
}
