package network

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testNode(name, ip string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidrs[0], cidrs
	}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func rt(dst, via string) Route {
	return Route{Dst: netip.MustParsePrefix(dst), Via: netip.MustParseAddr(via)}
}

func TestDesiredRoutes(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*corev1.Node
		want  []Route
	}{
		{"alone", []*corev1.Node{testNode("a", "192.168.1.1", "10.244.0.0/24")}, nil},
		{"two others", []*corev1.Node{
			testNode("c", "192.168.1.3", "10.244.2.0/24"),
			testNode("a", "192.168.1.1", "10.244.0.0/24"),
			testNode("b", "192.168.1.2", "10.244.1.0/24"),
		}, []Route{rt("10.244.1.0/24", "192.168.1.2"), rt("10.244.2.0/24", "192.168.1.3")}},
		{"no pod CIDR yet", []*corev1.Node{testNode("b", "192.168.1.2")}, nil},
		{"no address yet", []*corev1.Node{testNode("b", "", "10.244.1.0/24")}, nil},
		{"dual stack uses the address of each family", []*corev1.Node{func() *corev1.Node {
			n := testNode("b", "192.168.1.2", "10.244.1.0/24", "fd00:1::/64")
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fc00::2"})
			return n
		}()}, []Route{rt("10.244.1.0/24", "192.168.1.2"), rt("fd00:1::/64", "fc00::2")}},
		{"IPv6 CIDR without IPv6 address", []*corev1.Node{testNode("b", "192.168.1.2", "fd00:1::/64")}, nil},
		{"duplicate CIDR: first by name wins", []*corev1.Node{
			testNode("d", "192.168.1.4", "10.244.1.0/24"),
			testNode("b", "192.168.1.2", "10.244.1.0/24"),
		}, []Route{rt("10.244.1.0/24", "192.168.1.2")}},
		{"bad CIDR skipped", []*corev1.Node{testNode("b", "192.168.1.2", "nonsense")}, nil},
		{"only spec.podCIDR", []*corev1.Node{func() *corev1.Node {
			n := testNode("b", "192.168.1.2")
			n.Spec.PodCIDR = "10.244.7.0/24"
			return n
		}()}, []Route{rt("10.244.7.0/24", "192.168.1.2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DesiredRoutes("a", tt.nodes)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("DesiredRoutes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDiffRoutes(t *testing.T) {
	tests := []struct {
		name                    string
		current, desired        []Route
		wantReplace, wantRemove []Route
	}{
		{"empty", nil, nil, nil, nil},
		{"add", nil, []Route{rt("10.244.1.0/24", "192.168.1.2")}, []Route{rt("10.244.1.0/24", "192.168.1.2")}, nil},
		{"unchanged", []Route{rt("10.244.1.0/24", "192.168.1.2")}, []Route{rt("10.244.1.0/24", "192.168.1.2")}, nil, nil},
		{"gateway moved", []Route{rt("10.244.1.0/24", "192.168.1.2")}, []Route{rt("10.244.1.0/24", "192.168.1.9")},
			[]Route{rt("10.244.1.0/24", "192.168.1.9")}, nil},
		{"node gone", []Route{rt("10.244.1.0/24", "192.168.1.2"), rt("10.244.2.0/24", "192.168.1.3")},
			[]Route{rt("10.244.2.0/24", "192.168.1.3")}, nil, []Route{rt("10.244.1.0/24", "192.168.1.2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replace, remove := DiffRoutes(tt.current, tt.desired)
			if !slices.Equal(replace, tt.wantReplace) || !slices.Equal(remove, tt.wantRemove) {
				t.Fatalf("DiffRoutes = %v, %v; want %v, %v", replace, remove, tt.wantReplace, tt.wantRemove)
			}
		})
	}
}

// fakeTable is a RouteTable in memory; fail makes Replace of that
// destination fail.
type fakeTable struct {
	routes map[netip.Prefix]netip.Addr
	fail   netip.Prefix
}

func (f *fakeTable) Routes() ([]Route, error) {
	var out []Route
	for d, v := range f.routes {
		out = append(out, Route{Dst: d, Via: v})
	}
	return out, nil
}

func (f *fakeTable) Replace(r Route) error {
	if r.Dst == f.fail {
		return errors.New("network is unreachable")
	}
	f.routes[r.Dst] = r.Via
	return nil
}

func (f *fakeTable) Delete(r Route) error { delete(f.routes, r.Dst); return nil }

func TestRouteSyncer(t *testing.T) {
	table := &fakeTable{routes: map[netip.Prefix]netip.Addr{netip.MustParsePrefix("10.244.9.0/24"): netip.MustParseAddr("192.168.1.9")}}
	s := &RouteSyncer{Self: "a", Table: table}
	nodes := []*corev1.Node{
		testNode("a", "192.168.1.1", "10.244.0.0/24"),
		testNode("b", "192.168.1.2", "10.244.1.0/24"),
		testNode("c", "192.168.1.3", "10.244.2.0/24"),
	}
	table.fail = netip.MustParsePrefix("10.244.2.0/24")
	if err := s.Sync(nodes); err == nil {
		t.Fatal("Sync succeeded although a route could not be added")
	}
	table.fail = netip.Prefix{}
	if err := s.Sync(nodes); err != nil {
		t.Fatal(err)
	}
	got, _ := table.Routes()
	slices.SortFunc(got, compareRoutes)
	want := []Route{rt("10.244.1.0/24", "192.168.1.2"), rt("10.244.2.0/24", "192.168.1.3")}
	if !slices.Equal(got, want) {
		t.Fatalf("table = %v, want %v", got, want)
	}
}
