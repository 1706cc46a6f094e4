package dns

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeUpstream serves example.com A 192.0.2.1 (TTL 60) and NXDOMAIN for
// everything else on loopback UDP and TCP, counting questions.
func fakeUpstream(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var count atomic.Int32
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		count.Add(1)
		m := new(mdns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		if q.Name == "example.com." && q.Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR("example.com. 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Rcode = mdns.RcodeNameError
			soa, _ := mdns.NewRR("com. 60 IN SOA ns.com. admin.com. 1 2 3 4 30")
			m.Ns = append(m.Ns, soa)
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: handler}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String(), &count
}

// startServer runs a Server over the test objects with the upstream.
func startServer(t *testing.T, upstream string) *Server {
	t.Helper()
	src := testSource()
	var objs []runtime.Object
	for _, s := range src.services {
		objs = append(objs, s)
	}
	for _, s := range src.slices {
		objs = append(objs, s)
	}
	s, err := New(Config{Client: fake.NewClientset(objs...), ListenAddr: "127.0.0.1:0",
		Upstreams: []string{upstream}, UpstreamTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	return s
}

func query(t *testing.T, network, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	c := &mdns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", network, name, err)
	}
	return resp
}

// TestServerUDPAndTCP asks cluster and outside names over both
// transports.
func TestServerUDPAndTCP(t *testing.T) {
	upstream, count := fakeUpstream(t)
	addr := startServer(t, upstream).Addr().String()
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			m := query(t, network, addr, "web.shop.svc.cluster.local.", mdns.TypeA)
			if len(m.Answer) != 1 || m.Answer[0].(*mdns.A).A.String() != "10.96.0.10" || !m.Authoritative {
				t.Errorf("cluster IP answer: %v", m)
			}
			m = query(t, network, addr, "nope.shop.svc.cluster.local.", mdns.TypeA)
			if m.Rcode != mdns.RcodeNameError {
				t.Errorf("unknown service rcode %s", mdns.RcodeToString[m.Rcode])
			}
			m = query(t, network, addr, "_http._tcp.db.shop.svc.cluster.local.", mdns.TypeSRV)
			if len(m.Answer) != 2 || len(m.Extra) != 2 {
				t.Errorf("SRV answer: %v", m)
			}
			m = query(t, network, addr, "10.0.96.10.in-addr.arpa.", mdns.TypePTR)
			if len(m.Answer) != 1 || m.Answer[0].(*mdns.PTR).Ptr != "web.shop.svc.cluster.local." {
				t.Errorf("PTR answer: %v", m)
			}
		})
	}
	m := query(t, "udp", addr, "example.com.", mdns.TypeA)
	if len(m.Answer) != 1 || m.Answer[0].(*mdns.A).A.String() != "192.0.2.1" || m.Authoritative {
		t.Errorf("forwarded answer: %v", m)
	}
	m = query(t, "udp", addr, "ext.shop.svc.cluster.local.", mdns.TypeA)
	if len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != mdns.TypeCNAME || m.Answer[1].(*mdns.A).A.String() != "192.0.2.1" {
		t.Errorf("ExternalName answer: %v", m)
	}
	before := count.Load()
	for range 3 {
		if m := query(t, "tcp", addr, "missing.com.", mdns.TypeA); m.Rcode != mdns.RcodeNameError {
			t.Errorf("missing.com rcode %s", mdns.RcodeToString[m.Rcode])
		}
	}
	if got := count.Load() - before; got != 1 {
		t.Errorf("upstream asked %d times for a cached negative answer, want 1", got)
	}
}

// TestServerUpstreamDown answers SERVFAIL, after the timeout, when no
// upstream answers; cluster names still work.
func TestServerUpstreamDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := startServer(t, pc.LocalAddr().String()).Addr().String()
	start := time.Now()
	if m := query(t, "udp", addr, "example.com.", mdns.TypeA); m.Rcode != mdns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", mdns.RcodeToString[m.Rcode])
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %v with a 500ms upstream timeout", took)
	}
	if m := query(t, "udp", addr, "web.shop.svc.cluster.local.", mdns.TypeA); len(m.Answer) != 1 {
		t.Errorf("cluster answer: %v", m)
	}
}

// TestUpstreamsFromResolvConf reads name servers and leaves out the
// server's own address.
func TestUpstreamsFromResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	conf := "search example.org\nnameserver 192.0.2.53\nnameserver 10.96.0.10\noptions ndots:5\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := upstreamsFromResolvConf(path, "10.96.0.10:53")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "192.0.2.53:53" {
		t.Errorf("upstreams %v", got)
	}
}
