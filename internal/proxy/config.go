package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
)

// Mode selects the kernel interface the proxy programs.
type Mode string

// Modes.
const (
	// ModeAuto picks nftables when the kernel's nftables answers over
	// netlink, else iptables.
	ModeAuto     Mode = "auto"
	ModeNFTables Mode = "nftables"
	ModeIPTables Mode = "iptables"
)

// Config configures a Proxy.
type Config struct {
	// Client reaches the API server (required).
	Client kubernetes.Interface
	// NodeName identifies this node's endpoints (required).
	NodeName string
	// NodeIPs are the addresses NodePorts listen on; empty means every
	// local non-loopback address.
	NodeIPs []net.IP
	// ClusterCIDR is the pod range (comma-separated for several): traffic
	// to a cluster IP from outside it is masqueraded. Empty disables that.
	ClusterCIDR string
	// Mode is nftables, iptables or auto (the default).
	Mode Mode
	// MinSyncPeriod is the least time between two syncs (default 100ms);
	// changes arriving meanwhile are folded into the next sync.
	MinSyncPeriod time.Duration
	// SyncPeriod is how often the whole rule set is reloaded even without
	// changes (default 1h), repairing rules someone else changed. Note that
	// a full reload forgets ClientIP affinity entries.
	SyncPeriod time.Duration
	// ManageSysctls loads br_netfilter and sets
	// net.bridge.bridge-nf-call-iptables=1 at start, so that traffic
	// between pods on one bridge passes the rules (best effort).
	ManageSysctls bool
	// NetworkNamespace, when set, runs the kernel tools in that named
	// network namespace (`ip netns exec`); for tests and benchmarks.
	NetworkNamespace string
	// Registerer receives the proxy's metrics; nil keeps them private.
	Registerer prometheus.Registerer
	// Logger receives the proxy's logs; nil discards them.
	Logger *slog.Logger
}

// withDefaults checks the configuration and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		return c, errors.New("proxy: a client is required")
	}
	if c.NodeName == "" {
		return c, errors.New("proxy: a node name is required")
	}
	switch c.Mode {
	case "":
		c.Mode = ModeAuto
	case ModeAuto, ModeNFTables, ModeIPTables:
	default:
		return c, fmt.Errorf("proxy: unknown mode %q (want nftables, iptables or auto)", c.Mode)
	}
	if c.MinSyncPeriod <= 0 {
		c.MinSyncPeriod = 100 * time.Millisecond
	}
	if c.SyncPeriod <= 0 {
		c.SyncPeriod = time.Hour
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
