// Package dns is Skiff's cluster DNS: an authoritative server for the
// cluster domain, fed by informers on Services and EndpointSlices, that
// forwards every other name to the node's upstream resolvers.
//
// Resolver is the pure part: given a question and a Source of API
// objects, it returns the records (or NXDOMAIN, or "forward this"). It
// answers
//
//	<svc>.<ns>.svc.<domain>              A/AAAA: the cluster IPs, or for a
//	                                     headless Service the ready endpoints;
//	                                     CNAME for an ExternalName Service
//	<host>.<svc>.<ns>.svc.<domain>       A/AAAA of a headless Service's endpoint
//	                                     by hostname or dashed address
//	_<port>._<proto>.<svc>.<ns>.svc...   SRV for named ports
//	<a-b-c-d>.<ns>.pod.<domain>          A for a pod address
//	<d.c.b.a>.in-addr.arpa               PTR for cluster IPs and named endpoints
//
// Server serves a Resolver over UDP and TCP with miekg/dns, chases
// ExternalName CNAMEs and forwards other names upstream (from
// /etc/resolv.conf unless configured), caching upstream answers, negative
// ones included, for their TTL.
package dns
