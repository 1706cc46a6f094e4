package containerd

import (
	"strings"
	"testing"
)

func TestRenderConfig(t *testing.T) {
	cfg := DefaultConfig("/var/lib/skiff/containerd")
	data, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"version = 2\n",
		`root = "/var/lib/skiff/containerd/root"`,
		`state = "/var/lib/skiff/containerd/state"`,
		"[grpc]\n  address = \"/var/lib/skiff/containerd/containerd.sock\"",
		`sandbox_image = "registry.skiff.local/pause:3.10"`,
		`snapshotter = "overlayfs"`,
		`runtime_type = "io.containerd.runc.v2"`,
		"SystemdCgroup = false",
		`bin_dir = "/usr/lib/cni"`,
		`conf_dir = "/var/lib/skiff/containerd/cni/net.d"`,
		`"io.containerd.snapshotter.v1.btrfs"`,
		"restrict_oom_score_adj = false",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

func TestValidate(t *testing.T) {
	long := "/" + strings.Repeat("d", 120)
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"default", func(*Config) {}, ""},
		{"native", func(c *Config) { c.Snapshotter = SnapshotterNative }, ""},
		{"relative root", func(c *Config) { c.Root = "root" }, "not an absolute path"},
		{"long socket", func(c *Config) { c.Address = long }, "longer than"},
		{"bad snapshotter", func(c *Config) { c.Snapshotter = "zfs" }, "unknown snapshotter"},
		{"no pause", func(c *Config) { c.SandboxImage = "" }, "no sandbox image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig("/data/containerd")
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]string{
		`/a/b`:    `"/a/b"`,
		`a"b`:     `"a\"b"`,
		`a\b`:     `"a\\b"`,
		"tab\tx":  `"tab\u0009x"`,
		"ünicode": `"ünicode"`,
	}
	for in, want := range tests {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestHasCap(t *testing.T) {
	tests := []struct {
		status string
		bit    uint
		want   bool
	}{
		{"Name:\tx\nCapEff:\t000001ffffffffff\n", capSysResource, true},
		{"CapPrm:\t000001ffffffffff\nCapEff:\t000001fffeffffff\n", capSysResource, false},
		{"CapEff:\t0000000000000001\n", 0, true},
		{"CapEff:\tzz\n", 0, false},
		{"no caps here", 0, false},
	}
	for _, tt := range tests {
		if got := hasCap(tt.status, tt.bit); got != tt.want {
			t.Errorf("hasCap(%q, %d) = %v, want %v", tt.status, tt.bit, got, tt.want)
		}
	}
}
