package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// Defaults of BridgeOptions.
const (
	DefaultBridgeName  = "skiff0"
	DefaultNetworkName = "skiff"
	// ConfigFileName sorts first in the CNI configuration directory.
	ConfigFileName = "10-skiff.conflist"
	cniVersion     = "1.0.0"
)

// BridgeOptions tune BridgeConfig; the zero value gives the defaults.
type BridgeOptions struct {
	// Bridge is the host bridge device; "" is DefaultBridgeName.
	Bridge string
	// Name is the CNI network name; "" is DefaultNetworkName.
	Name string
	// MTU of the bridge and veths; 0 lets the plugin choose.
	MTU int
	// NoIPMasq turns off the bridge plugin's masquerading (which hides
	// pods behind the node for every destination outside the node's own
	// pod CIDR); the node then masquerades itself (EnsureMasquerade).
	NoIPMasq bool
	// IPAMDataDir is where host-local keeps its allocations; "" is the
	// plugin's /var/lib/cni/networks. Nodes sharing a machine each need
	// their own.
	IPAMDataDir string
}

// conflist mirrors the subset of a CNI network configuration list Skiff
// writes.
type conflist struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

type bridgePlugin struct {
	Type        string `json:"type"`
	Bridge      string `json:"bridge"`
	IsGateway   bool   `json:"isGateway"`
	IPMasq      bool   `json:"ipMasq"`
	HairpinMode bool   `json:"hairpinMode"`
	MTU         int    `json:"mtu,omitempty"`
	IPAM        ipam   `json:"ipam"`
}

type ipam struct {
	Type    string      `json:"type"`
	DataDir string      `json:"dataDir,omitempty"`
	Ranges  [][]ipRange `json:"ranges"`
	Routes  []route     `json:"routes"`
}

type ipRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
}

type route struct {
	Dst string `json:"dst"`
}

type portmapPlugin struct {
	Type         string          `json:"type"`
	Capabilities map[string]bool `json:"capabilities"`
	SNAT         bool            `json:"snat"`
}

// BridgeConfig returns the CNI network configuration list for a node
// whose pods take addresses from podCIDR (e.g. "10.244.0.0/24"). The
// first address of the CIDR is the bridge's (the pods' gateway).
func BridgeConfig(podCIDR string, opts BridgeOptions) ([]byte, error) {
	prefix, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	if prefix != prefix.Masked() {
		return nil, fmt.Errorf("pod CIDR %s has host bits set (want %s)", prefix, prefix.Masked())
	}
	if bits := prefix.Addr().BitLen() - prefix.Bits(); bits < 2 {
		return nil, fmt.Errorf("pod CIDR %s is too small", prefix)
	}
	gateway := prefix.Addr().Next()
	defaultRoute := "0.0.0.0/0"
	if prefix.Addr().Is6() {
		defaultRoute = "::/0"
	}
	if opts.Bridge == "" {
		opts.Bridge = DefaultBridgeName
	}
	if opts.Name == "" {
		opts.Name = DefaultNetworkName
	}
	list := conflist{
		CNIVersion: cniVersion,
		Name:       opts.Name,
		Plugins: []any{
			bridgePlugin{
				Type:        "bridge",
				Bridge:      opts.Bridge,
				IsGateway:   true,
				IPMasq:      !opts.NoIPMasq,
				HairpinMode: true,
				MTU:         opts.MTU,
				IPAM: ipam{
					Type:    "host-local",
					DataDir: opts.IPAMDataDir,
					Ranges:  [][]ipRange{{{Subnet: prefix.String(), Gateway: gateway.String()}}},
					Routes:  []route{{Dst: defaultRoute}},
				},
			},
			portmapPlugin{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}, SNAT: true},
		},
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("CNI config: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteConfig writes BridgeConfig(podCIDR) as dir/ConfigFileName,
// atomically, and returns the file's path.
func WriteConfig(dir, podCIDR string, opts BridgeOptions) (string, error) {
	data, err := BridgeConfig(podCIDR, opts)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	path := filepath.Join(dir, ConfigFileName)
	tmp, err := os.CreateTemp(dir, ".skiff-cni-*")
	if err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("CNI config: %w", err)
	}
	return path, nil
}
