package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RouteProtocol marks the routes Skiff adds (rtm_protocol), so that it
// lists, changes and removes only its own.
const RouteProtocol = 0xb6

// NetlinkRoutes is the kernel's main routing table of the current network
// namespace, over rtnetlink. Only routes with RouteProtocol are listed.
type NetlinkRoutes struct{}

var _ RouteTable = NetlinkRoutes{}

// Routes implements RouteTable.
func (NetlinkRoutes) Routes() ([]Route, error) {
	var out []Route
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		rib, err := syscall.NetlinkRIB(unix.RTM_GETROUTE, family)
		if err != nil {
			return nil, fmt.Errorf("netlink route dump: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(rib)
		if err != nil {
			return nil, fmt.Errorf("netlink route dump: %w", err)
		}
		for i := range msgs {
			if r, ok := parseRoute(&msgs[i]); ok {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// parseRoute returns the route of an RTM_NEWROUTE message if it is one of
// Skiff's in the main table.
func parseRoute(m *syscall.NetlinkMessage) (Route, bool) {
	if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
		return Route{}, false
	}
	rt := (*unix.RtMsg)(unsafe.Pointer(&m.Data[0]))
	if rt.Protocol != RouteProtocol || rt.Table != unix.RT_TABLE_MAIN {
		return Route{}, false
	}
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		return Route{}, false
	}
	var r Route
	for _, a := range attrs {
		ip, ok := netip.AddrFromSlice(a.Value)
		if !ok {
			continue
		}
		switch a.Attr.Type {
		case unix.RTA_DST:
			r.Dst = netip.PrefixFrom(ip, int(rt.Dst_len))
		case unix.RTA_GATEWAY:
			r.Via = ip
		}
	}
	return r, r.Dst.IsValid() && r.Via.IsValid()
}

// Replace implements RouteTable.
func (NetlinkRoutes) Replace(r Route) error {
	return routeRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, r)
}

// Delete implements RouteTable.
func (NetlinkRoutes) Delete(r Route) error {
	err := routeRequest(unix.RTM_DELROUTE, 0, r)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// routeRequest sends one route message and waits for the kernel's answer.
func routeRequest(typ uint16, flags uint16, r Route) error {
	if r.Dst.Addr().Is4() != r.Via.Is4() {
		return fmt.Errorf("route %s mixes address families", r)
	}
	family := uint8(unix.AF_INET)
	if !r.Dst.Addr().Is4() {
		family = unix.AF_INET6
	}
	msg := unix.RtMsg{
		Family: family, Dst_len: uint8(r.Dst.Bits()), Table: unix.RT_TABLE_MAIN,
		Protocol: RouteProtocol, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST,
	}
	body := unsafe.Slice((*byte)(unsafe.Pointer(&msg)), unix.SizeofRtMsg)
	body = appendAttr(body, unix.RTA_DST, r.Dst.Addr().AsSlice())
	body = appendAttr(body, unix.RTA_GATEWAY, r.Via.AsSlice())
	return netlinkDo(typ, flags, body)
}

// appendAttr appends one rtattr, padded to four bytes.
func appendAttr(b []byte, typ uint16, value []byte) []byte {
	l := unix.SizeofRtAttr + len(value)
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// netlinkDo sends a request with NLM_F_ACK and returns the kernel's error.
func netlinkDo(typ, flags uint16, body []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink bind: %w", err)
	}
	const seq = 1
	req := make([]byte, 0, unix.SizeofNlMsghdr+len(body))
	req = binary.NativeEndian.AppendUint32(req, uint32(unix.SizeofNlMsghdr+len(body)))
	req = binary.NativeEndian.AppendUint16(req, typ)
	req = binary.NativeEndian.AppendUint16(req, flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	req = binary.NativeEndian.AppendUint32(req, seq)
	req = binary.NativeEndian.AppendUint32(req, 0)
	req = append(req, body...)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("netlink: short error message")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
				return syscall.Errno(-code)
			}
			return nil
		}
	}
}

// Cleanup removes what a node added to the kernel: its routes to other
// nodes' pods and its masquerading table (for `skiff agent --cleanup`).
func Cleanup() error {
	var errs []error
	table := NetlinkRoutes{}
	routes, err := table.Routes()
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range routes {
		if err := table.Delete(r); err != nil {
			errs = append(errs, fmt.Errorf("removing route %s: %w", r, err))
		}
	}
	if err := RemoveMasquerade(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
