package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/skiffkube/skiff/internal/proxy"
)

// ProxyConfig sets the size of a proxy benchmark run.
type ProxyConfig struct {
	// Services lists the numbers of Services programmed, each from an
	// empty table (default 1,000 and 10,000).
	Services []int
	// Endpoints per Service (default 5); Updates is the number of
	// single-endpoint changes timed per size (default 20).
	Endpoints, Updates int
	// Modes are "nftables" and/or "iptables" (default nftables).
	Modes []string
}

// ErrNeedsRoot is returned by benchmarks that program the kernel or run
// containers when the process is not root.
var ErrNeedsRoot = errors.New("needs root")

// RunProxy checks that the machine can run the proxy benchmark (root and
// each mode's tools), then programs the rule sets in a temporary network
// namespace with proxy.Bench and writes its Markdown table to w.
func RunProxy(ctx context.Context, cfg ProxyConfig, w io.Writer) error {
	if len(cfg.Services) == 0 {
		cfg.Services = []int{1000, 10000}
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = []string{string(proxy.ModeNFTables)}
	}
	modes, err := proxyModes(cfg.Modes)
	if err != nil {
		return err
	}
	for _, n := range cfg.Services {
		if n < 1 {
			return fmt.Errorf("services must be positive, got %d", n)
		}
	}
	if err := proxyPrerequisites(modes, os.Geteuid(), exec.LookPath); err != nil {
		return err
	}
	_, err = proxy.Bench(ctx, proxy.BenchConfig{Services: cfg.Services, Endpoints: cfg.Endpoints,
		Updates: cfg.Updates, Modes: modes}, w)
	return err
}

// proxyModes parses mode names; auto is refused, the table names a mode.
func proxyModes(names []string) ([]proxy.Mode, error) {
	out := make([]proxy.Mode, 0, len(names))
	for _, n := range names {
		switch m := proxy.Mode(n); m {
		case proxy.ModeNFTables, proxy.ModeIPTables:
			out = append(out, m)
		default:
			return nil, fmt.Errorf("unknown mode %q (nftables or iptables)", n)
		}
	}
	return out, nil
}

// proxyPrerequisites returns a one-line error when the process is not
// root or a tool a mode needs is missing.
func proxyPrerequisites(modes []proxy.Mode, euid int, lookPath func(string) (string, error)) error {
	if euid != 0 {
		return fmt.Errorf("the proxy benchmark programs the kernel in a network namespace: %w", ErrNeedsRoot)
	}
	tools := []string{"ip"}
	for _, m := range modes {
		if m == proxy.ModeNFTables {
			tools = append(tools, "nft")
		} else {
			tools = append(tools, "iptables-restore")
		}
	}
	for _, t := range tools {
		if _, err := lookPath(t); err != nil {
			return fmt.Errorf("the proxy benchmark needs %s (apt-get install iproute2 nftables iptables): %w", t, err)
		}
	}
	return nil
}
