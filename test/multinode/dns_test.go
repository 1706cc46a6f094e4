package multinode

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// kubeDNS is the kube-dns Service's address with the default service CIDR.
const kubeDNS = "10.96.0.10:53"

// inHostNetns runs f on a thread moved into host i's network namespace;
// the thread is thrown away afterwards.
func (f *fabric) inHostNetns(i int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open(f.nsPath(i), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// lookup asks server (from host i's namespace) for name and type over
// network ("udp" or "tcp") and returns the answer records' data, sorted.
func (c *cluster) lookup(i int, network, server, name string, qtype uint16) ([]string, error) {
	var answers []string
	err := c.net.inHostNetns(i, func() error {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		client := &dns.Client{Net: network, Timeout: 3 * time.Second}
		r, _, err := client.Exchange(m, server)
		if err != nil {
			return fmt.Errorf("%s %s over %s: %w", dns.TypeToString[qtype], name, network, err)
		}
		if r.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("%s %s over %s: %s", dns.TypeToString[qtype], name, network, dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				answers = append(answers, v.A.String())
			case *dns.SRV:
				answers = append(answers, fmt.Sprintf("%d %s", v.Port, strings.TrimSuffix(v.Target, ".")))
			default:
				answers = append(answers, strings.TrimPrefix(rr.String(), rr.Header().String()))
			}
		}
		return nil
	})
	slices.Sort(answers)
	return answers, err
}
