package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"golang.org/x/sys/unix"
)

// The Service whose latency the bench measures: its cluster IP and its
// one endpoint, an address of the bench namespace's own "pod network".
const (
	latencyVIP      = "10.111.0.1"
	latencyEndpoint = "10.200.0.1"
	latencyDials    = 200
)

// latencyObjects is the Service and slice the latency is measured through.
func latencyObjects() (*corev1.Service, *discoveryv1.EndpointSlice) {
	svc := testService("latency", latencyVIP)
	svc.UID, svc.ResourceVersion = types.UID("uid-latency"), "1"
	slice := testSlice("latency", latencyEndpoint)
	slice.UID, slice.ResourceVersion = types.UID("uid-latency-1"), "1"
	return svc, slice
}

// preparePodNetwork gives the namespace a veth pair holding the latency
// endpoint's address, with the service range routed to it (as a node's
// pod bridge would be).
func preparePodNetwork(ctx context.Context, netns string) error {
	for _, argv := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", "bench0", "type", "veth", "peer", "name", "bench1"},
		{"ip", "link", "set", "bench0", "up"},
		{"ip", "link", "set", "bench1", "up"},
		{"ip", "addr", "add", latencyEndpoint + "/24", "dev", "bench0"},
		{"ip", "route", "add", "10.96.0.0/12", "dev", "bench0"},
	} {
		if out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", netns}, argv...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %w: %s", argv, err, out)
		}
	}
	return nil
}

// measureLatency times connect + one answer to the endpoint directly and
// through the Service's cluster IP, from a client in the namespace, and
// returns the two medians.
func measureLatency(netns string) (direct, vip time.Duration, err error) {
	var l net.Listener
	if err := inNetns(netns, func() error {
		var err error
		l, err = net.Listen("tcp", net.JoinHostPort(latencyEndpoint, "8080"))
		return err
	}); err != nil {
		return 0, 0, err
	}
	defer l.Close()
	go func() { // ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "x")
			c.Close()
		}
	}()
	time1 := func(addr string) (time.Duration, error) {
		var times []time.Duration
		err := inNetns(netns, func() error {
			for range latencyDials {
				start := time.Now()
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					return fmt.Errorf("dialing %s: %w", addr, err)
				}
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				_, err = io.ReadAll(c)
				c.Close()
				if err != nil {
					return fmt.Errorf("reading from %s: %w", addr, err)
				}
				times = append(times, time.Since(start))
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		slices.Sort(times)
		return times[len(times)/2], nil
	}
	if direct, err = time1(net.JoinHostPort(latencyEndpoint, "8080")); err != nil {
		return 0, 0, err
	}
	if vip, err = time1(net.JoinHostPort(latencyVIP, "80")); err != nil {
		return 0, 0, err
	}
	return direct, vip, nil
}

// inNetns runs f on a thread inside the named network namespace; sockets
// f opens stay there.
func inNetns(netns string, f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + netns)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering %s: %w", netns, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so it ends with this goroutine.
		return fmt.Errorf("leaving %s: %w", netns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
