package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// testNetns is a named network namespace made for one test.
type testNetns struct {
	name string
}

// newTestNetns creates a network namespace with loopback up and a veth
// pair (the "pod network") holding addrs, routes the service range
// there, and removes it when the test ends. It skips the test unless run
// as root with ip and the tools of the given mode.
func newTestNetns(t *testing.T, mode Mode, addrs ...string) *testNetns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root to create network namespaces")
	}
	tools := map[Mode][]string{ModeNFTables: {"nft"}, modeNFTablesTool: {"nft"}, ModeIPTables: {"iptables", "iptables-restore", "iptables-save"}}
	for _, tool := range append([]string{"ip"}, tools[mode]...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("kernel test: %s not installed", tool)
		}
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := &testNetns{name: "skiff-test-" + hex.EncodeToString(b)}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("kernel test: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("deleting network namespace: %v: %s", err, out)
		}
	})
	ns.run(t, "ip", "link", "set", "lo", "up")
	ns.run(t, "ip", "link", "add", "pods0", "type", "veth", "peer", "name", "pods1")
	ns.run(t, "ip", "link", "set", "pods0", "up")
	ns.run(t, "ip", "link", "set", "pods1", "up")
	for _, a := range addrs {
		ns.run(t, "ip", "addr", "add", a+"/24", "dev", "pods0")
	}
	ns.run(t, "ip", "route", "add", "10.96.0.0/12", "dev", "pods0")
	return ns
}

// run runs a command in the namespace and returns its output.
func (n *testNetns) run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.name}, argv...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// do runs f on a thread that has entered the namespace. Sockets f opens
// stay in the namespace after do returns.
func (n *testNetns) do(t *testing.T, f func()) {
	t.Helper()
	if err := inNetns(n.name, func() error { f(); return nil }); err != nil {
		t.Fatal(err)
	}
}

// serve starts a TCP server in the namespace at addr that writes its name
// to each client and closes the connection.
func (n *testNetns) serve(t *testing.T, addr, name string) {
	t.Helper()
	var l net.Listener
	var err error
	n.do(t, func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, name)
			c.Close()
		}
	}()
}

// dial connects from the namespace, with source address from, to addr
// and returns what the server wrote.
func (n *testNetns) dial(t *testing.T, from, addr string) (string, error) {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	var c net.Conn
	var err error
	n.do(t, func() { c, err = d.Dial("tcp", addr) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// backends dials addr count times and counts the answers by server name.
func (n *testNetns) backends(t *testing.T, from, addr string, count int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range count {
		got, err := n.dial(t, from, addr)
		if err != nil {
			t.Fatalf("dialing %s: %v", addr, err)
		}
		seen[got]++
	}
	return seen
}
