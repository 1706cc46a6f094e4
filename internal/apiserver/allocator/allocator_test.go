package allocator

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

func mustCIDR(t *testing.T, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func seeded(seed uint64) Option {
	return WithRand(rand.New(rand.NewPCG(seed, seed)))
}

func newIPs(t *testing.T, store storage.Store, cidr string, opts ...Option) *IPAllocator {
	t.Helper()
	a, err := NewIPAllocator(store, DefaultServiceIPKey, mustCIDR(t, cidr), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestIPAllocatorFillsRange(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		cidr   string
		usable int // network (and for IPv4 broadcast) excluded
	}{
		{"10.96.0.0/28", 14},
		{"fd00:10:96::/124", 15},
	}
	for _, c := range cases {
		cidr := c.cidr
		t.Run(cidr, func(t *testing.T) {
			a := newIPs(t, etcdtest.New(t), cidr, seeded(1))
			if a.Size() != c.usable {
				t.Fatalf("Size = %d, want %d", a.Size(), c.usable)
			}
			kube := a.KubernetesServiceIP()
			want := netip.MustParsePrefix(cidr).Addr().Next()
			if kube.String() != want.String() {
				t.Fatalf("KubernetesServiceIP = %s, want %s", kube, want)
			}
			seen := map[string]bool{}
			for range a.Size() - 1 {
				ip, err := a.AllocateNext(ctx)
				if err != nil {
					t.Fatalf("AllocateNext after %d: %v", len(seen), err)
				}
				if seen[ip.String()] || ip.Equal(kube) || !a.CIDR().Contains(ip) {
					t.Fatalf("AllocateNext returned %s (seen %v, kubernetes IP %s)", ip, seen[ip.String()], kube)
				}
				seen[ip.String()] = true
			}
			_, err := a.AllocateNext(ctx)
			if !errors.Is(err, ErrFull) {
				t.Fatalf("AllocateNext on a full range: %v, want ErrFull", err)
			}
			if err := a.Allocate(ctx, kube); err != nil {
				t.Fatalf("Allocate(kubernetes IP): %v", err)
			}
			err = a.Allocate(ctx, kube)
			if !errors.Is(err, ErrAllocated) || err.Error() != "provided IP is already allocated" {
				t.Fatalf("second Allocate: %v", err)
			}
			if n, err := a.Used(ctx); err != nil || n != a.Size() {
				t.Fatalf("Used = %d, %v; want %d", n, err, a.Size())
			}
		})
	}
}

func TestIPAllocatorNotInRange(t *testing.T) {
	ctx := context.Background()
	a := newIPs(t, etcdtest.New(t), "10.96.0.0/28")
	for _, s := range []string{"10.96.0.0", "10.96.0.15", "10.96.0.16", "10.95.255.255", "fd00::1"} {
		ip := net.ParseIP(s)
		err := a.Allocate(ctx, ip)
		if !errors.Is(err, ErrNotInRange) || !strings.Contains(err.Error(), "The range of valid IPs is 10.96.0.0/28") {
			t.Errorf("Allocate(%s) = %v, want ErrNotInRange", s, err)
		}
		if has, err := a.Has(ctx, ip); has || err != nil {
			t.Errorf("Has(%s) = %v, %v", s, has, err)
		}
		if err := a.Release(ctx, ip); err != nil {
			t.Errorf("Release(%s) = %v, want no-op", s, err)
		}
	}
	if err := a.Allocate(ctx, net.ParseIP("10.96.0.14")); err != nil {
		t.Errorf("Allocate(last usable): %v", err)
	}
	if err := a.Allocate(ctx, net.ParseIP("::ffff:10.96.0.13")); err != nil {
		t.Errorf("Allocate(IPv4-mapped form): %v", err)
	}
}

func TestReleaseThenReallocate(t *testing.T) {
	ctx := context.Background()
	a := newIPs(t, etcdtest.New(t), "10.96.0.0/29", seeded(7)) // 6 usable, 5 dynamic
	var ips []net.IP
	for range 5 {
		ip, err := a.AllocateNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ips = append(ips, ip)
	}
	freed := ips[2]
	if err := a.Release(ctx, freed); err != nil {
		t.Fatal(err)
	}
	if has, err := a.Has(ctx, freed); has || err != nil {
		t.Fatalf("Has(%s) after release = %v, %v", freed, has, err)
	}
	if err := a.Release(ctx, freed); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	got, err := a.AllocateNext(ctx)
	if err != nil || !got.Equal(freed) {
		t.Fatalf("AllocateNext after release = %s, %v; want %s", got, err, freed)
	}
	if has, err := a.Has(ctx, freed); !has || err != nil {
		t.Fatalf("Has(%s) after reallocation = %v, %v", freed, has, err)
	}
}

func TestStateSurvivesNewInstance(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := etcdtest.StartEmbeddedIn(t, dir)
	first := newIPs(t, etcdtest.NewStore(t, e.Endpoints()), "10.96.0.0/24")
	taken, err := first.AllocateNext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Allocate(ctx, first.KubernetesServiceIP()); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = etcdtest.StartEmbeddedIn(t, dir) // a restarted server on the same data
	second := newIPs(t, etcdtest.NewStore(t, e.Endpoints()), "10.96.0.0/24")
	for _, ip := range []net.IP{taken, second.KubernetesServiceIP()} {
		if has, err := second.Has(ctx, ip); !has || err != nil {
			t.Errorf("Has(%s) on the new instance = %v, %v", ip, has, err)
		}
		if err := second.Allocate(ctx, ip); !errors.Is(err, ErrAllocated) {
			t.Errorf("Allocate(%s) on the new instance = %v, want ErrAllocated", ip, err)
		}
	}
	if n, err := second.Used(ctx); n != 2 || err != nil {
		t.Errorf("Used = %d, %v; want 2", n, err)
	}
}

func TestConcurrentAllocatorsNoDuplicates(t *testing.T) {
	ctx := context.Background()
	store := etcdtest.New(t)
	allocators := []*IPAllocator{newIPs(t, store, "10.96.0.0/24"), newIPs(t, store, "10.96.0.0/24")}
	const goroutines = 50
	var (
		mu   sync.Mutex
		got  = map[string]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for g := range goroutines {
		a := allocators[g%len(allocators)]
		wg.Go(func() {
			for {
				ip, err := a.AllocateNext(ctx)
				mu.Lock()
				switch {
				case errors.Is(err, ErrFull):
					mu.Unlock()
					return
				case err != nil:
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				got[ip.String()]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for ip, n := range got {
		if n != 1 {
			t.Errorf("%s handed out %d times", ip, n)
		}
	}
	if want := 253; len(got) != want { // 254 usable minus the kubernetes IP
		t.Errorf("%d distinct IPs handed out, want %d", len(got), want)
	}
	if n, err := allocators[0].Used(ctx); n != 253 || err != nil {
		t.Errorf("Used = %d, %v; want 253", n, err)
	}
}

func TestDynamicAllocationPrefersUpperBand(t *testing.T) {
	ctx := context.Background()
	a := newIPs(t, etcdtest.New(t), "10.96.0.0/24", seeded(3)) // band: offsets 0..15
	lowestUpper := netip.MustParseAddr("10.96.0.17")
	for i := range 254 - 1 {
		ip, err := a.AllocateNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := netip.AddrFromSlice(ip)
		if upper := !addr.Less(lowestUpper); upper != (i < 254-16) {
			t.Fatalf("allocation %d = %s: upper band %v", i, ip, upper)
		}
	}
}

func TestSeedMakesAllocationDeterministic(t *testing.T) {
	ctx := context.Background()
	store := etcdtest.New(t)
	sequence := func(key string) []string {
		a, err := NewIPAllocator(store, key, mustCIDR(t, "10.96.0.0/16"), seeded(42))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for range 5 {
			ip, err := a.AllocateNext(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ip.String())
		}
		return out
	}
	x, y := sequence("/registry/ranges/a"), sequence("/registry/ranges/b")
	if strings.Join(x, ",") != strings.Join(y, ",") {
		t.Errorf("same seed, different sequences: %v vs %v", x, y)
	}
}

func TestRangeMismatchIsAnError(t *testing.T) {
	ctx := context.Background()
	store := etcdtest.New(t)
	if _, err := newIPs(t, store, "10.96.0.0/28").AllocateNext(ctx); err != nil {
		t.Fatal(err)
	}
	other := newIPs(t, store, "10.96.0.0/27")
	_, err := other.AllocateNext(ctx)
	if err == nil || errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "10.96.0.0/28") {
		t.Fatalf("AllocateNext with a different range = %v", err)
	}
	if _, err := other.Has(ctx, net.ParseIP("10.96.0.3")); err == nil {
		t.Fatal("Has with a different range succeeded")
	}
}

func TestPortAllocator(t *testing.T) {
	ctx := context.Background()
	store := etcdtest.New(t)
	a, err := NewPortAllocator(store, DefaultNodePortKey, 30000, 16, seeded(5))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(ctx, 30000); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{30000: true}
	for range 15 {
		p, err := a.AllocateNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] || p < 30000 || p > 30015 {
			t.Fatalf("AllocateNext = %d (seen %v)", p, seen[p])
		}
		seen[p] = true
	}
	if _, err := a.AllocateNext(ctx); !errors.Is(err, ErrFull) {
		t.Fatalf("AllocateNext on full range = %v", err)
	}
	if err := a.Allocate(ctx, 30015); !errors.Is(err, ErrAllocated) || err.Error() != "provided port is already allocated" {
		t.Fatalf("Allocate taken = %v", err)
	}
	for _, p := range []int{29999, 30016, 0, -1} {
		err := a.Allocate(ctx, p)
		if !errors.Is(err, ErrNotInRange) || !strings.Contains(err.Error(), "30000-30015") {
			t.Errorf("Allocate(%d) = %v", p, err)
		}
	}
	if err := a.Release(ctx, 30007); err != nil {
		t.Fatal(err)
	}
	if p, err := a.AllocateNext(ctx); p != 30007 || err != nil {
		t.Fatalf("AllocateNext after release = %d, %v", p, err)
	}
	b, err := NewPortAllocator(store, DefaultNodePortKey, 30000, 16)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := b.Has(ctx, 30007); !has || err != nil {
		t.Errorf("new instance Has(30007) = %v, %v", has, err)
	}
}

func TestPortAllocatorConcurrent(t *testing.T) {
	ctx := context.Background()
	store := etcdtest.New(t)
	var allocators []*PortAllocator
	for range 2 {
		a, err := NewPortAllocator(store, DefaultNodePortKey, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		allocators = append(allocators, a)
	}
	var (
		mu   sync.Mutex
		got  = map[int]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for g := range 50 {
		a := allocators[g%2]
		wg.Go(func() {
			for range 4 {
				p, err := a.AllocateNext(ctx)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					got[p]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(got) != 200 {
		t.Errorf("%d distinct ports for 200 allocations", len(got))
	}
	for p, n := range got {
		if n != 1 || p < 30000 || p > 32767 {
			t.Errorf("port %d handed out %d times", p, n)
		}
	}
}

func TestConstructorsReject(t *testing.T) {
	store := etcdtest.New(t)
	ipCases := []struct {
		name  string
		store storage.Store
		key   string
		cidr  *net.IPNet
	}{
		{"nil store", nil, "k", mustCIDR(t, "10.0.0.0/24")},
		{"empty key", store, "", mustCIDR(t, "10.0.0.0/24")},
		{"nil cidr", store, "k", nil},
		{"too large", store, "k", mustCIDR(t, "10.0.0.0/8")},
		{"no usable address", store, "k", mustCIDR(t, "10.0.0.0/31")},
	}
	for _, c := range ipCases {
		if _, err := NewIPAllocator(c.store, c.key, c.cidr); err == nil {
			t.Errorf("NewIPAllocator %s: no error", c.name)
		}
	}
	portCases := []struct{ base, size int }{{0, 10}, {30000, 0}, {65000, 1000}, {-5, 10}}
	for _, c := range portCases {
		if _, err := NewPortAllocator(store, "k", c.base, c.size); err == nil {
			t.Errorf("NewPortAllocator(%d, %d): no error", c.base, c.size)
		}
	}
	a, err := NewPortAllocator(store, "k", 0, 0)
	if err != nil || a.Base() != 30000 || a.Size() != 2768 {
		t.Errorf("default port range: base %d size %d, %v", a.Base(), a.Size(), err)
	}
}
