package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// forwarder sends questions to upstream resolvers, in order, and caches
// their answers (negative ones too) for their TTL.
type forwarder struct {
	upstreams []string
	timeout   time.Duration
	now       func() time.Time

	mu    sync.Mutex
	cache map[cacheKey]cacheEntry
	// maxEntries bounds the cache; when full, expired entries go first,
	// then arbitrary ones.
	maxEntries int
}

type cacheKey struct {
	name          string
	qtype, qclass uint16
}

type cacheEntry struct {
	msg     *mdns.Msg
	expires time.Time
}

// maxCacheTTL caps how long an upstream answer is kept.
const maxCacheTTL = 30 * time.Second

// errNoUpstream is returned when no upstream answered.
var errNoUpstream = errors.New("no upstream resolver answered")

// exchange answers req from the cache or the first upstream that answers.
// The reply's ID is the caller's business.
func (f *forwarder) exchange(ctx context.Context, req *mdns.Msg) (*mdns.Msg, error) {
	q := req.Question[0]
	key := cacheKey{strings.ToLower(q.Name), q.Qtype, q.Qclass}
	if m := f.cached(key); m != nil {
		return m, nil
	}
	var errs []error
	for _, up := range f.upstreams {
		m, err := f.ask(ctx, req, up)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Rcode == mdns.RcodeSuccess || m.Rcode == mdns.RcodeNameError {
			f.store(key, m)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: %w", errNoUpstream, errors.Join(errs...))
}

// ask sends req to one upstream over UDP, and again over TCP when the
// answer is truncated.
func (f *forwarder) ask(ctx context.Context, req *mdns.Msg, upstream string) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	q := req.Copy()
	q.Id = mdns.Id()
	c := &mdns.Client{Net: "udp", Timeout: f.timeout}
	m, _, err := c.ExchangeContext(ctx, q, upstream)
	if err == nil && m.Truncated {
		c.Net = "tcp"
		m, _, err = c.ExchangeContext(ctx, q, upstream)
	}
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", upstream, err)
	}
	return m, nil
}

func (f *forwarder) cached(key cacheKey) *mdns.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[key]
	if !ok {
		return nil
	}
	now := f.now()
	if !now.Before(e.expires) {
		delete(f.cache, key)
		return nil
	}
	m := e.msg.Copy()
	left := uint32(e.expires.Sub(now) / time.Second)
	for _, sec := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype != mdns.TypeOPT {
				rr.Header().Ttl = min(rr.Header().Ttl, left)
			}
		}
	}
	return m
}

// store keeps an answer for its smallest TTL (for a negative answer, the
// SOA's minimum), at most maxCacheTTL.
func (f *forwarder) store(key cacheKey, m *mdns.Msg) {
	ttl := maxCacheTTL
	for _, sec := range [][]mdns.RR{m.Answer, m.Ns} {
		for _, rr := range sec {
			t := time.Duration(rr.Header().Ttl) * time.Second
			if soa, ok := rr.(*mdns.SOA); ok {
				t = min(t, time.Duration(soa.Minttl)*time.Second)
			}
			ttl = min(ttl, t)
		}
	}
	if len(m.Answer)+len(m.Ns) == 0 || ttl <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if len(f.cache) >= f.maxEntries {
		for k, e := range f.cache {
			if !now.Before(e.expires) || len(f.cache) >= f.maxEntries {
				delete(f.cache, k)
			}
			if len(f.cache) < f.maxEntries*9/10 {
				break
			}
		}
	}
	f.cache[key] = cacheEntry{msg: m.Copy(), expires: now.Add(ttl)}
}

// upstreamsFromResolvConf reads the name servers of a resolv.conf file as
// host:port addresses, leaving out self (the server's own address).
func upstreamsFromResolvConf(path, self string) ([]string, error) {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var out []string
	for _, s := range cc.Servers {
		addr := net.JoinHostPort(s, cc.Port)
		if addr != self {
			out = append(out, addr)
		}
	}
	return out, nil
}
