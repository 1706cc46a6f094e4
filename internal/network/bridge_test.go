package network

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBridgeConfig(t *testing.T) {
	tests := []struct {
		name        string
		cidr        string
		opts        BridgeOptions
		wantErr     string
		wantSubnet  string
		wantGateway string
		wantRoute   string
		wantBridge  string
		wantMTU     float64
	}{
		{name: "node /24", cidr: "10.244.0.0/24", wantSubnet: "10.244.0.0/24", wantGateway: "10.244.0.1", wantRoute: "0.0.0.0/0", wantBridge: "skiff0"},
		{name: "second node", cidr: "10.244.1.0/24", wantSubnet: "10.244.1.0/24", wantGateway: "10.244.1.1", wantRoute: "0.0.0.0/0", wantBridge: "skiff0"},
		{name: "options", cidr: "10.88.0.0/16", opts: BridgeOptions{Bridge: "br1", Name: "n", MTU: 1400}, wantSubnet: "10.88.0.0/16", wantGateway: "10.88.0.1", wantRoute: "0.0.0.0/0", wantBridge: "br1", wantMTU: 1400},
		{name: "ipv6", cidr: "fd00:10::/64", wantSubnet: "fd00:10::/64", wantGateway: "fd00:10::1", wantRoute: "::/0", wantBridge: "skiff0"},
		{name: "host bits", cidr: "10.244.0.5/24", wantErr: "host bits"},
		{name: "garbage", cidr: "nope", wantErr: "pod CIDR"},
		{name: "too small", cidr: "10.0.0.0/32", wantErr: "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := BridgeConfig(tt.cidr, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			name := tt.opts.Name
			if name == "" {
				name = "skiff"
			}
			if got["cniVersion"] != "1.0.0" || got["name"] != name {
				t.Errorf("header = %v %v", got["cniVersion"], got["name"])
			}
			plugins := got["plugins"].([]any)
			if len(plugins) != 2 {
				t.Fatalf("plugins = %d, want 2", len(plugins))
			}
			bridge := plugins[0].(map[string]any)
			if bridge["type"] != "bridge" || bridge["bridge"] != tt.wantBridge || bridge["isGateway"] != true || bridge["ipMasq"] != true {
				t.Errorf("bridge = %v", bridge)
			}
			if mtu, _ := bridge["mtu"].(float64); mtu != tt.wantMTU {
				t.Errorf("mtu = %v, want %v", mtu, tt.wantMTU)
			}
			ipam := bridge["ipam"].(map[string]any)
			wantIPAM := map[string]any{
				"type":   "host-local",
				"ranges": []any{[]any{map[string]any{"subnet": tt.wantSubnet, "gateway": tt.wantGateway}}},
				"routes": []any{map[string]any{"dst": tt.wantRoute}},
			}
			if !reflect.DeepEqual(ipam, wantIPAM) {
				t.Errorf("ipam = %v, want %v", ipam, wantIPAM)
			}
			portmap := plugins[1].(map[string]any)
			wantPortmap := map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}, "snat": true}
			if !reflect.DeepEqual(portmap, wantPortmap) {
				t.Errorf("portmap = %v, want %v", portmap, wantPortmap)
			}
		})
	}
}

func TestWriteConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net.d")
	path, err := WriteConfig(dir, "10.244.3.0/24", BridgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "10-skiff.conflist") {
		t.Errorf("path = %s", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"subnet": "10.244.3.0/24"`) {
		t.Errorf("written config lacks the subnet:\n%s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the config", len(entries))
	}
	if _, err := WriteConfig(dir, "bad", BridgeOptions{}); err == nil {
		t.Error("bad CIDR accepted")
	}
}
