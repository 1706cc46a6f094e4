package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// Config configures a Server.
type Config struct {
	// Client reaches the API server (required).
	Client kubernetes.Interface
	// ListenAddr is the UDP and TCP address to serve on (default ":53").
	ListenAddr string
	// Domain is the cluster domain (default "cluster.local").
	Domain string
	// Upstreams are the host:port resolvers other names go to; empty
	// means the name servers of ResolvConf.
	Upstreams []string
	// ResolvConf is read when Upstreams is empty (default /etc/resolv.conf).
	ResolvConf string
	// TTL of cluster records and negative answers (default 5s).
	TTL time.Duration
	// UpstreamTimeout bounds one question to one upstream (default 2s).
	UpstreamTimeout time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		return c, errors.New("dns: a client is required")
	}
	if c.ListenAddr == "" {
		c.ListenAddr = ":53"
	}
	if c.Domain == "" {
		c.Domain = "cluster.local"
	}
	c.Domain = strings.TrimSuffix(strings.ToLower(c.Domain), ".")
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	if c.TTL <= 0 {
		c.TTL = 5 * time.Second
	}
	if c.UpstreamTimeout <= 0 {
		c.UpstreamTimeout = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Server is the cluster DNS server. Build one with New and run it with
// Run; it is good for one Run.
type Server struct {
	cfg      Config
	factory  informers.SharedInformerFactory
	resolver *Resolver
	fwd      *forwarder
	logger   *slog.Logger

	// ready is closed once the caches are synced and the sockets bound.
	ready chan struct{}
	mu    sync.Mutex
	addr  net.Addr
}

// New checks cfg, reads the upstreams and sets up the informers.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ups := cfg.Upstreams
	if len(ups) == 0 {
		if ups, err = upstreamsFromResolvConf(cfg.ResolvConf, cfg.ListenAddr); err != nil {
			cfg.Logger.Warn("no upstream resolvers; names outside the cluster will fail", "err", err)
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithTransform(dropManagedFields))
	src, err := newInformerSource(factory)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		factory:  factory,
		resolver: &Resolver{Domain: cfg.Domain, TTL: uint32(cfg.TTL / time.Second), Source: src},
		fwd: &forwarder{upstreams: ups, timeout: cfg.UpstreamTimeout, now: time.Now,
			cache: map[cacheKey]cacheEntry{}, maxEntries: 10000},
		logger: cfg.Logger,
		ready:  make(chan struct{}),
	}, nil
}

func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// Ready is closed once the server answers.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the UDP address served on (TCP uses the same port); nil before
// Ready.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run syncs the caches, then serves UDP and TCP until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	defer s.factory.Shutdown()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before Shutdown, which waits for the informers
	s.factory.Start(ctx.Done())
	for typ, ok := range s.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("dns: %v informer did not sync", typ)
		}
	}
	pc, err := net.ListenPacket("udp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	host, _, _ := net.SplitHostPort(s.cfg.ListenAddr)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		pc.Close()
		return fmt.Errorf("dns: %w", err)
	}
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) { s.serve(ctx, w, req) })
	servers := []*mdns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	s.mu.Lock()
	s.addr = pc.LocalAddr()
	s.mu.Unlock()
	close(s.ready)
	s.logger.Info("cluster DNS serving", "addr", pc.LocalAddr(), "domain", s.cfg.Domain, "upstreams", s.fwd.upstreams)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		runErr = fmt.Errorf("dns: serving: %w", runErr)
	}
	for _, srv := range servers {
		shutCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.ShutdownContext(shutCtx) // fails only for a server already stopped
		stop()
	}
	return runErr
}

// serve answers one request.
func (s *Server) serve(ctx context.Context, w mdns.ResponseWriter, req *mdns.Msg) {
	resp := s.answer(ctx, req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), size)
		}
		resp.Truncate(size)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.logger.Debug("writing DNS answer", "err", err)
	}
}

// answer builds the reply: from the Resolver for cluster names, from the
// upstreams for the others.
func (s *Server) answer(ctx context.Context, req *mdns.Msg) *mdns.Msg {
	resp := new(mdns.Msg)
	if len(req.Question) != 1 || req.Opcode != mdns.OpcodeQuery {
		resp.SetRcode(req, mdns.RcodeFormatError)
		return resp
	}
	a := s.resolver.Resolve(req.Question[0])
	if a.Forward {
		return s.forward(ctx, req)
	}
	resp.SetRcode(req, a.Rcode)
	resp.Authoritative, resp.RecursionAvailable = true, true
	resp.Answer, resp.Extra, resp.Ns = a.Answer, a.Extra, a.Ns
	if a.Chase != "" {
		s.chase(ctx, resp, a.Chase, req.Question[0].Qtype)
	}
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(max(opt.UDPSize(), mdns.MinMsgSize), false)
	}
	return resp
}

// forward relays a question upstream; SERVFAIL when none answers.
func (s *Server) forward(ctx context.Context, req *mdns.Msg) *mdns.Msg {
	m, err := s.fwd.exchange(ctx, req)
	if err != nil {
		s.logger.Debug("forwarding DNS question", "name", req.Question[0].Name, "err", err)
		resp := new(mdns.Msg)
		resp.SetRcode(req, mdns.RcodeServerFailure)
		resp.RecursionAvailable = true
		return resp
	}
	m.Id = req.Id
	return m
}

// chase adds the records of an ExternalName target, best effort: when no
// upstream knows it, the client still has the CNAME.
func (s *Server) chase(ctx context.Context, resp *mdns.Msg, target string, qtype uint16) {
	if strings.HasSuffix(target, "."+s.resolver.zone()) {
		resp.Answer = append(resp.Answer, s.resolver.Resolve(mdns.Question{Name: target, Qtype: qtype, Qclass: mdns.ClassINET}).Answer...)
		return
	}
	q := new(mdns.Msg)
	q.SetQuestion(target, qtype)
	if m, err := s.fwd.exchange(ctx, q); err == nil {
		resp.Answer = append(resp.Answer, m.Answer...)
	}
}
