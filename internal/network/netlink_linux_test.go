package network

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// inNetns runs f on a thread moved into the network namespace at path;
// the thread is discarded afterwards.
func inNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// TestNetlinkRoutes adds, changes, lists and removes routes in a
// scratch network namespace (root only).
func TestNetlinkRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	ns := fmt.Sprintf("skiff-nl-%d", os.Getpid())
	ipCmd := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ipCmd("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ipCmd("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	ipCmd("-n", ns, "addr", "add", "192.168.50.1/24", "dev", "v0")
	ipCmd("-n", ns, "link", "set", "v1", "up")
	ipCmd("-n", ns, "link", "set", "v0", "up")
	ipCmd("-n", ns, "route", "add", "10.9.0.0/24", "via", "192.168.50.9") // not ours: never listed
	table := NetlinkRoutes{}
	step := func(f func() error) {
		t.Helper()
		if err := inNetns("/run/netns/"+ns, f); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []Route {
		t.Helper()
		var got []Route
		step(func() (err error) { got, err = table.Routes(); return err })
		slices.SortFunc(got, compareRoutes)
		return got
	}
	step(func() error { return table.Replace(rt("10.244.1.0/24", "192.168.50.2")) })
	step(func() error { return table.Replace(rt("10.244.2.0/24", "192.168.50.3")) })
	step(func() error { return table.Replace(rt("10.244.1.0/24", "192.168.50.4")) })
	if got, want := list(), []Route{rt("10.244.1.0/24", "192.168.50.4"), rt("10.244.2.0/24", "192.168.50.3")}; !slices.Equal(got, want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	if out := ipCmd("-n", ns, "route", "show", "10.244.1.0/24"); !strings.Contains(out, "via 192.168.50.4") {
		t.Fatalf("kernel route: %q", out)
	}
	step(func() error { return table.Delete(rt("10.244.2.0/24", "192.168.50.3")) })
	step(func() error { return table.Delete(rt("10.244.2.0/24", "192.168.50.3")) }) // gone already: no error
	if got, want := list(), []Route{rt("10.244.1.0/24", "192.168.50.4")}; !slices.Equal(got, want) {
		t.Fatalf("routes after delete %v, want %v", got, want)
	}
	if err := inNetns("/run/netns/"+ns, func() error { return table.Replace(rt("10.244.3.0/24", "172.31.0.1")) }); err == nil {
		t.Fatal("a route via an unreachable gateway was accepted")
	}
	step(Cleanup)
	if got := list(); len(got) != 0 {
		t.Fatalf("routes after Cleanup: %v", got)
	}
	if out := ipCmd("-n", ns, "route", "show", "10.9.0.0/24"); !strings.Contains(out, "via 192.168.50.9") {
		t.Fatalf("Cleanup removed a route that is not Skiff's: %q", out)
	}
}

// TestMasqueradeTable writes the masquerading table in a scratch network
// namespace and reads it back with nft (root only).
func TestMasqueradeTable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, bin := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s", bin)
		}
	}
	ns := fmt.Sprintf("skiff-masq-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	cidrs, err := ParseCIDRs("10.244.0.0/16,fd00:44::/56")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := inNetns("/run/netns/"+ns, func() error { return EnsureMasquerade(cidrs) }); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v\n%s", err, out)
	}
	for _, want := range []string{
		"table ip skiff-masq", "ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade",
		"table ip6 skiff-masq", "ip6 saddr fd00:44::/56 ip6 daddr != fd00:44::/56 masquerade",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ruleset lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(string(out), "masquerade"); n != 2 {
		t.Errorf("%d masquerade rules, want 2:\n%s", n, out)
	}
	if err := inNetns("/run/netns/"+ns, RemoveMasquerade); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	if strings.Contains(string(out), "skiff-masq") {
		t.Errorf("table left after RemoveMasquerade:\n%s", out)
	}
}
