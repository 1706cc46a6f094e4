package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// BenchConfig configures Bench.
type BenchConfig struct {
	// Services lists the numbers of Services to program (default 1,000 and
	// 10,000), each run from an empty table.
	Services []int
	// Endpoints per Service (default 5).
	Endpoints int
	// Updates is how many single-endpoint changes are timed per size
	// (default 20).
	Updates int
	// Modes to measure (default nftables). The tests also pass the
	// unexported nftables-tool mode, to compare with the nft tool.
	Modes []Mode
	// NetworkNamespace to program; empty creates a temporary one (so the
	// host's rules are never touched) and deletes it afterwards.
	NetworkNamespace string
}

// BenchResult is one row of Bench's table.
type BenchResult struct {
	Mode                Mode
	Services, Endpoints int
	// Compute is the time to compute the whole rule set; Program the time
	// to compute and load it into an empty kernel table.
	Compute, Program time.Duration
	// UpdateP50, UpdateP99 and UpdateMax are the times from one changed
	// EndpointSlice to the rule being live in the kernel (compute, diff,
	// load).
	UpdateP50, UpdateP99, UpdateMax time.Duration
	// Chains is the size of the rule set.
	Chains int
	// DirectLatency and VIPLatency are the medians of a TCP connect and
	// first answer from the node to one endpoint, directly and through
	// its Service's cluster IP, with the whole table loaded.
	DirectLatency, VIPLatency time.Duration
}

// Bench programs N Services × M endpoints into the kernel from scratch,
// then times single-endpoint updates, and writes a Markdown table to w.
// It needs root and the mode's tools.
func Bench(ctx context.Context, cfg BenchConfig, w io.Writer) ([]BenchResult, error) {
	if len(cfg.Services) == 0 {
		cfg.Services = []int{1000, 10000}
	}
	if cfg.Endpoints <= 0 {
		cfg.Endpoints = 5
	}
	if cfg.Updates <= 0 {
		cfg.Updates = 20
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = []Mode{ModeNFTables}
	}
	netns := cfg.NetworkNamespace
	measure := false // latency is measured in a namespace of our own only
	if netns == "" {
		name, remove, err := tempNetns(ctx)
		if err != nil {
			return nil, err
		}
		defer remove()
		netns = name
		if err := preparePodNetwork(ctx, netns); err != nil {
			return nil, err
		}
		measure = true
	}
	cmd := commander{netns: netns}
	var results []BenchResult
	for _, mode := range cfg.Modes {
		for _, n := range cfg.Services {
			r, err := benchOne(ctx, cmd, mode, n, cfg.Endpoints, cfg.Updates, measure)
			if err != nil {
				return results, fmt.Errorf("bench %s with %d services: %w", mode, n, err)
			}
			results = append(results, r)
		}
	}
	if err := writeBenchTable(w, results); err != nil {
		return results, err
	}
	return results, nil
}

// benchOne measures one mode and size, from an empty namespace.
func benchOne(ctx context.Context, cmd commander, mode Mode, n, m, updates int, measure bool) (BenchResult, error) {
	res := BenchResult{Mode: mode, Services: n, Endpoints: m}
	if err := cleanup(ctx, mode, cmd); err != nil {
		return res, err
	}
	defer cleanup(context.WithoutCancel(ctx), mode, cmd) //nolint:errcheck // best effort; the namespace goes too
	ap := newApplier(mode, cmd)
	svcs, eps := genObjects(n, m)
	lsvc, lslice := latencyObjects()
	svcs, eps = append(svcs, lsvc), append(eps, lslice)
	in := rules.Input{NodeName: "node-a", ClusterCIDR: "10.128.0.0/9", Services: svcs, Slices: eps,
		EndpointChains: mode == ModeIPTables}

	start := time.Now()
	var c rules.Computer
	applied := c.Compute(in)
	res.Compute = time.Since(start)
	if err := ap.apply(ctx, nil, applied); err != nil {
		return res, err
	}
	res.Program = time.Since(start)
	res.Chains = len(applied.Chains)

	if measure {
		direct, vip, err := measureLatency(cmd.netns)
		if err != nil {
			return res, fmt.Errorf("latency through a cluster IP: %w", err)
		}
		res.DirectLatency, res.VIPLatency = direct, vip
	}

	times := make([]time.Duration, 0, updates)
	for u := range updates {
		i := u * 7919 % n // spread over the Services
		s := eps[i].DeepCopy()
		s.ResourceVersion = strconv.Itoa(u + 2)
		s.Endpoints[0].Addresses = []string{ipAt(10, 250, u+1)}
		in.Slices = slices.Clone(in.Slices)
		in.Slices[i] = s
		start := time.Now()
		next := c.Compute(in)
		if err := ap.apply(ctx, applied, next); err != nil {
			return res, err
		}
		times = append(times, time.Since(start))
		applied = next
	}
	slices.Sort(times)
	res.UpdateP50, res.UpdateMax = times[len(times)/2], times[len(times)-1]
	res.UpdateP99 = times[min(len(times)-1, len(times)*99/100)]
	return res, nil
}

// tempNetns creates a network namespace and returns its name and a
// function that deletes it.
func tempNetns(ctx context.Context) (string, func(), error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "skiff-bench-" + hex.EncodeToString(b)
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", name).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("creating network namespace: %w: %s", err, out)
	}
	return name, func() { _ = exec.Command("ip", "netns", "del", name).Run() }, nil
}

// writeBenchTable writes the results as a Markdown table.
func writeBenchTable(w io.Writer, results []BenchResult) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	if _, err := fmt.Fprintln(w, "| mode | services | endpoints each | chains | compute | program from scratch | one-endpoint update p50 | p99 | max | connect to pod | connect through VIP |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"); err != nil {
		return err
	}
	for _, r := range results {
		us := func(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }
		if _, err := fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", r.Mode, r.Services, r.Endpoints,
			r.Chains, ms(r.Compute), ms(r.Program), ms(r.UpdateP50), ms(r.UpdateP99), ms(r.UpdateMax), us(r.DirectLatency), us(r.VIPLatency)); err != nil {
			return err
		}
	}
	return nil
}
