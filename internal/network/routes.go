package network

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Route sends the pods of another node (Dst, its pod CIDR) through that
// node's address (Via), which must be on a directly connected network:
// host-gw routing, as flannel's backend of that name does.
type Route struct {
	Dst netip.Prefix
	Via netip.Addr
}

func (r Route) String() string { return r.Dst.String() + " via " + r.Via.String() }

// DesiredRoutes returns the routes node self needs to reach the pods of
// every other node: one per pod CIDR of each node with an InternalIP of
// the same family. Nodes without pod CIDR or address are skipped; when
// two nodes claim one CIDR, the first by name wins. The result is sorted
// by destination.
func DesiredRoutes(self string, nodes []*corev1.Node) []Route {
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b *corev1.Node) int { return cmp.Compare(a.Name, b.Name) })
	seen := map[netip.Prefix]bool{}
	var out []Route
	for _, n := range sorted {
		if n.Name == self {
			continue
		}
		for _, cidr := range podCIDRs(n) {
			p, err := netip.ParsePrefix(cidr)
			if err != nil || seen[p.Masked()] {
				continue
			}
			via, ok := internalIP(n, p.Addr().Is4())
			if !ok {
				continue
			}
			seen[p.Masked()] = true
			out = append(out, Route{Dst: p.Masked(), Via: via})
		}
	}
	slices.SortFunc(out, compareRoutes)
	return out
}

// podCIDRs returns spec.podCIDRs, or spec.podCIDR when the list is empty.
func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}

// internalIP returns the node's first InternalIP of the family.
func internalIP(n *corev1.Node, v4 bool) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err == nil && ip.Unmap().Is4() == v4 {
			return ip.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func compareRoutes(a, b Route) int {
	if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Dst.Bits(), b.Dst.Bits()); c != 0 {
		return c
	}
	return a.Via.Compare(b.Via)
}

// DiffRoutes returns what turns current into desired: the routes to add
// or replace (new destinations and changed gateways) and those to remove
// (destinations no longer wanted).
func DiffRoutes(current, desired []Route) (replace, remove []Route) {
	have := map[netip.Prefix]netip.Addr{}
	for _, r := range current {
		have[r.Dst] = r.Via
	}
	want := map[netip.Prefix]bool{}
	for _, r := range desired {
		want[r.Dst] = true
		if via, ok := have[r.Dst]; !ok || via != r.Via {
			replace = append(replace, r)
		}
	}
	for _, r := range current {
		if !want[r.Dst] {
			remove = append(remove, r)
		}
	}
	slices.SortFunc(replace, compareRoutes)
	slices.SortFunc(remove, compareRoutes)
	return replace, remove
}

// RouteTable is where a node's routes to other nodes' pods live: the
// kernel's main table (NetlinkRoutes) or a fake in tests.
type RouteTable interface {
	// Routes lists the routes this table owns (those Skiff added).
	Routes() ([]Route, error)
	// Replace adds r, or changes the gateway of the route to r.Dst.
	Replace(r Route) error
	// Delete removes r.
	Delete(r Route) error
}

// RouteSyncer keeps a RouteTable equal to DesiredRoutes of the nodes it
// is given.
type RouteSyncer struct {
	// Self is this node's name; it needs no route to its own pods.
	Self string
	// Table is the table written.
	Table RouteTable
	// Logger receives a line per change.
	Logger *slog.Logger
}

// Sync makes the table hold the routes to the pod CIDRs of nodes. It
// applies every change it can and returns the errors joined.
func (s *RouteSyncer) Sync(nodes []*corev1.Node) error {
	current, err := s.Table.Routes()
	if err != nil {
		return fmt.Errorf("listing pod routes: %w", err)
	}
	replace, remove := DiffRoutes(current, DesiredRoutes(s.Self, nodes))
	var errs []error
	for _, r := range remove {
		if err := s.Table.Delete(r); err != nil {
			errs = append(errs, fmt.Errorf("removing route %s: %w", r, err))
			continue
		}
		s.log().Info("pod route removed", "route", r.String())
	}
	for _, r := range replace {
		if err := s.Table.Replace(r); err != nil {
			errs = append(errs, fmt.Errorf("adding route %s: %w", r, err))
			continue
		}
		s.log().Info("pod route set", "route", r.String())
	}
	return errors.Join(errs...)
}

func (s *RouteSyncer) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
