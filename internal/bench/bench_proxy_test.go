package bench

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/skiffkube/skiff/internal/proxy"
)

func TestProxyModes(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []proxy.Mode
		wantErr bool
	}{
		{in: []string{"nftables"}, want: []proxy.Mode{proxy.ModeNFTables}},
		{in: []string{"nftables", "iptables"}, want: []proxy.Mode{proxy.ModeNFTables, proxy.ModeIPTables}},
		{in: []string{"auto"}, wantErr: true},
		{in: []string{"ipvs"}, wantErr: true},
	} {
		got, err := proxyModes(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("proxyModes(%v): error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if strings.Join(modeStrings(got), ",") != strings.Join(modeStrings(tc.want), ",") {
			t.Errorf("proxyModes(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func modeStrings(m []proxy.Mode) []string {
	out := make([]string, len(m))
	for i, v := range m {
		out[i] = string(v)
	}
	return out
}

// lookPathOf finds only the named tools.
func lookPathOf(tools ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, t := range tools {
			if t == name {
				return "/usr/sbin/" + name, nil
			}
		}
		return "", exec.ErrNotFound
	}
}

func TestProxyPrerequisites(t *testing.T) {
	nft := []proxy.Mode{proxy.ModeNFTables}
	both := []proxy.Mode{proxy.ModeNFTables, proxy.ModeIPTables}
	for _, tc := range []struct {
		name    string
		modes   []proxy.Mode
		euid    int
		tools   []string
		wantErr string
	}{
		{"root with tools", nft, 0, []string{"ip", "nft"}, ""},
		{"not root", nft, 1000, []string{"ip", "nft"}, "needs root"},
		{"no nft", nft, 0, []string{"ip", "iptables-restore"}, "needs nft"},
		{"no iptables-restore", both, 0, []string{"ip", "nft"}, "needs iptables-restore"},
		{"no ip", nft, 0, []string{"nft"}, "needs ip "},
	} {
		err := proxyPrerequisites(tc.modes, tc.euid, lookPathOf(tc.tools...))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		case tc.euid != 0 && !errors.Is(err, ErrNeedsRoot):
			t.Errorf("%s: %v is not ErrNeedsRoot", tc.name, err)
		}
	}
}
