package server

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// Config is everything `skiff server` takes.
type Config struct {
	// DataDir holds certificates, the kubeconfig and embedded etcd data.
	DataDir string
	// BindAddress and SecurePort are where HTTPS is served.
	BindAddress string
	SecurePort  int
	// AdvertiseAddress is the IP other members and the kubernetes Service
	// use to reach this server; "" picks the first non-loopback address
	// (or 127.0.0.1).
	AdvertiseAddress string
	// EtcdServers are external etcd endpoints; empty starts embedded etcd.
	EtcdServers []string
	// KubeconfigPath is where the admin kubeconfig is written; "" means
	// <DataDir>/kubeconfig.
	KubeconfigPath string
	// ServiceCIDR is the range Service cluster IPs come from.
	ServiceCIDR string
	// ClusterCIDR is the pod network, split into one NodeCIDRMaskSize
	// range per node by the node IPAM controller ("" disables it).
	ClusterCIDR      string
	NodeCIDRMaskSize int
	// SchedulerProfiles configure the scheduler (from --scheduler-config);
	// none means the default profile.
	SchedulerProfiles []placement.Profile
	// Controllers tunes the controller manager; zero values are defaults.
	Controllers ControllerOptions
	// DisableScheduler and DisableControllerManager leave those components
	// to other processes (the API server alone, as for benchmarks or a
	// split control plane).
	DisableScheduler, DisableControllerManager bool
	// AnonymousAuth lets requests without credentials in as
	// system:anonymous on every path (RBAC then decides; by default it
	// grants them only the health and version endpoints). Off by default:
	// such requests get 401 except on the health and version paths.
	AnonymousAuth bool
	// TokenAuthFile is a static token file (token,user,uid,"groups"); ""
	// means none.
	TokenAuthFile string
	// ServiceAccountIssuer is the "iss" of service account tokens; ""
	// means https://kubernetes.default.svc.cluster.local.
	ServiceAccountIssuer string
	// MaxRequestsInflight and MaxMutatingRequestsInflight bound the
	// read-only and mutating requests served at once, shared fairly among
	// users (0: 400 and 200; negative: no limit).
	MaxRequestsInflight, MaxMutatingRequestsInflight int
	// EncryptionProviderConfig is an EncryptionConfiguration file; ""
	// means <DataDir>/encryption-config.yaml, generated on the first start
	// to encrypt Secrets.
	EncryptionProviderConfig string
	// Audit configures the audit log (on by default).
	Audit AuditConfig
	// Logger receives the server's logs.
	Logger *slog.Logger
}

// withDefaults fills unset fields.
func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		return c, fmt.Errorf("a data directory is required (--data-dir)")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, fmt.Errorf("data directory %q: %w", c.DataDir, err)
	}
	c.DataDir = abs
	if c.BindAddress == "" {
		c.BindAddress = "0.0.0.0"
	}
	if c.SecurePort == 0 {
		c.SecurePort = 6443
	}
	if c.KubeconfigPath == "" {
		c.KubeconfigPath = filepath.Join(c.DataDir, "kubeconfig")
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = "10.96.0.0/12"
	}
	if _, _, err := net.ParseCIDR(c.ServiceCIDR); err != nil {
		return c, fmt.Errorf("service CIDR %q: %w", c.ServiceCIDR, err)
	}
	if c.AdvertiseAddress == "" {
		c.AdvertiseAddress = defaultAdvertiseAddress(c.BindAddress)
	}
	if net.ParseIP(c.AdvertiseAddress) == nil {
		return c, fmt.Errorf("advertise address %q is not an IP", c.AdvertiseAddress)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return c, nil
}

// defaultAdvertiseAddress is the bind address if it is specific, else the
// first global unicast IPv4 address of the host, else loopback.
func defaultAdvertiseAddress(bind string) string {
	if ip := net.ParseIP(bind); ip != nil && !ip.IsUnspecified() {
		return bind
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// serviceIP is the first usable address of the service range: the
// kubernetes Service's cluster IP.
func firstServiceIP(cidr string) (net.IP, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, err
	}
	ip := make(net.IP, len(n.IP))
	copy(ip, n.IP)
	ip[len(ip)-1]++
	return ip, nil
}
