package multinode

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The test network: the root namespace is 192.168.77.1, host i is
// 192.168.77.(10+i); a bridge in the switch namespace joins them.
const (
	subnetPrefix = "192.168.77."
	rootIP       = subnetPrefix + "1"
)

// fabric is the network of test hosts. Names carry a short id so that
// runs on one machine do not collide (interface names have 15 bytes).
type fabric struct {
	id     string
	sw     string
	hosts  []string
	rootIf string
}

// hostIP is the address of host i (from 1).
func hostIP(i int) string { return fmt.Sprintf("%s%d", subnetPrefix, 10+i) }

// newFabric makes the switch and n host namespaces. On error what was
// made is torn down.
func newFabric(n int) (f *fabric, err error) {
	id := fmt.Sprintf("%04x", os.Getpid()&0xffff)
	f = &fabric{id: id, sw: "skmn-" + id + "-sw", rootIf: "skr" + id}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.teardown())
		}
	}()
	steps := [][]string{
		{"netns", "add", f.sw},
		{"-n", f.sw, "link", "set", "lo", "up"},
		{"-n", f.sw, "link", "add", "br0", "type", "bridge"},
		{"-n", f.sw, "link", "set", "br0", "up"},
		{"link", "add", f.rootIf, "type", "veth", "peer", "name", "skp" + id},
		{"link", "set", "skp" + id, "netns", f.sw},
		{"-n", f.sw, "link", "set", "skp" + id, "master", "br0", "up"},
		{"addr", "add", rootIP + "/24", "dev", f.rootIf},
		{"link", "set", f.rootIf, "up"},
	}
	if err := ipAll(steps); err != nil {
		return f, err
	}
	for i := 1; i <= n; i++ {
		ns := fmt.Sprintf("skmn-%s-%d", id, i)
		f.hosts = append(f.hosts, ns)
		a, b := fmt.Sprintf("ska%s%d", id, i), fmt.Sprintf("skb%s%d", id, i)
		steps := [][]string{
			{"netns", "add", ns},
			{"-n", ns, "link", "set", "lo", "up"},
			{"link", "add", a, "type", "veth", "peer", "name", b},
			{"link", "set", a, "netns", ns},
			{"-n", ns, "link", "set", a, "name", "eth0"},
			{"-n", ns, "addr", "add", hostIP(i) + "/24", "dev", "eth0"},
			{"-n", ns, "link", "set", "eth0", "up"},
			{"-n", ns, "route", "add", "default", "via", rootIP},
			{"link", "set", b, "netns", f.sw},
			{"-n", f.sw, "link", "set", b, "master", "br0", "up"},
		}
		if err := ipAll(steps); err != nil {
			return f, err
		}
	}
	return f, nil
}

// nsPath is the network namespace file of host i (from 1).
func (f *fabric) nsPath(i int) string { return "/run/netns/" + f.hosts[i-1] }

// teardown deletes the namespaces (their veths go with them) and the
// root end of the switch link. It is safe on a half-made fabric.
func (f *fabric) teardown() error {
	var errs []error
	for _, ns := range append(f.hosts, f.sw) {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + f.rootIf); err == nil {
		if err := ip("link", "del", f.rootIf); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// inHost runs a command inside host i's network namespace.
func (f *fabric) inHost(i int, name string, args ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"--net=" + f.nsPath(i), "--", name}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in host %d: %w\n%s", name, strings.Join(args, " "), i, err, out)
	}
	return string(out), nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func ipAll(steps [][]string) error {
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}
