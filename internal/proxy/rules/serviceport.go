package rules

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// servicePort holds the names and keys of one Service port's rules.
type servicePort struct {
	*service
	// id is "namespace/name/protocol/port-label", the stem of chain names.
	id       string
	proto    string // tcp, udp or sctp
	port     string // the Service port number
	nodePort string // "" without a node port
	owner    string // "namespace/name:port-label", the comment of map elements
}

// addServicePort adds the chains and map elements of one Service port.
func (b *builder) addServicePort(s *service, sp corev1.ServicePort, eps []endpoint) {
	p := servicePort{service: s, proto: strings.ToLower(string(protocolOf(sp.Protocol)))}
	p.id = s.key + "/" + p.proto + "/" + portLabel(sp)
	p.port = strconv.Itoa(int(sp.Port))
	p.owner = s.key + ":" + portLabel(sp)
	if s.nodePorts && sp.NodePort > 0 {
		p.nodePort = strconv.Itoa(int(sp.NodePort))
	}
	hasExternal := p.nodePort != "" || len(s.externalIPs) > 0

	cluster := usable(eps, false)
	local := usable(eps, true)
	clusterChain, localChain := "", ""
	if len(cluster) > 0 && (!s.internalLocal || hasExternal) {
		clusterChain = "service-" + p.id
		b.addPolicyChain(clusterChain, p, cluster, true)
	}
	if len(local) > 0 && (s.internalLocal || (s.externalLocal && hasExternal)) {
		localChain = "local-" + p.id
		b.addPolicyChain(localChain, p, local, false)
	}

	internal := clusterChain
	if s.internalLocal {
		internal = localChain
	}
	b.addDestination(mapServiceIPs, mapNoEndpointServices, []string{s.clusterIP, p.proto, p.port},
		p.owner, internal, len(cluster) > 0)
	if hasExternal {
		b.addExternal(p, clusterChain, localChain)
	}
}

// addDestination sends one destination to target through the service map
// or, without a target, to the no-endpoint map: dropped when the Service
// has endpoints elsewhere, rejected when it has none at all.
func (b *builder) addDestination(serviceMap, noEndpointMap string, key []string, owner, target string, anyEndpoints bool) {
	if target != "" {
		b.addElement(serviceMap, Element{Key: key, Value: gotoChain(target), Comment: owner})
		return
	}
	v := gotoChain(chainReject)
	if anyEndpoints {
		v = Verdict{Kind: Drop}
	}
	b.addElement(noEndpointMap, Element{Key: key, Value: v, Comment: owner})
}

// addExternal adds the external chain of a Service port and sends its node
// port, external IPs and load-balancer IPs there. With the Cluster policy
// external traffic is masqueraded and balanced over all endpoints. With
// Local it goes to this node's endpoints only (dropped when there are none)
// and keeps its source address, except traffic from pods and from the node
// itself, which follows the cluster policy.
func (b *builder) addExternal(p servicePort, clusterChain, localChain string) {
	chain := ""
	if clusterChain != "" {
		chain = "external-" + p.id
		b.addChain(chain, nil, b.externalRules(p, clusterChain, localChain)...)
	}
	for _, ip := range p.externalIPs {
		b.addDestination(mapServiceIPs, mapNoEndpointServices, []string{ip, p.proto, p.port}, p.owner, chain, false)
	}
	if p.nodePort != "" {
		b.addDestination(mapServiceNodePorts, mapNoEndpointNodePorts, []string{p.proto, p.nodePort}, p.owner, chain, false)
	}
}

func (b *builder) externalRules(p servicePort, clusterChain, localChain string) []Rule {
	if !p.externalLocal {
		return []Rule{rule("", b.markMasq()), rule("", gotoChain(clusterChain))}
	}
	var rules []Rule
	if b.podCIDR != "" {
		rules = append(rules, rule("pods use the cluster policy",
			Match{Field: FieldSrcAddr, Value: b.podCIDR}, gotoChain(clusterChain)))
	}
	rules = append(rules,
		rule("masquerade traffic from the node", FibLocal{Field: FieldSrcAddr}, b.markMasq()),
		rule("", FibLocal{Field: FieldSrcAddr}, gotoChain(clusterChain)))
	if localChain == "" {
		return append(rules, rule("no local endpoints", Verdict{Kind: Drop}))
	}
	return append(rules, rule("", gotoChain(localChain)))
}

// addPolicyChain adds a chain that balances over eps at random, after
// sending clients with an affinity entry to their endpoint. The cluster
// chain (masq) also masquerades cluster-IP traffic from outside the pods.
func (b *builder) addPolicyChain(name string, p servicePort, eps []endpoint, masq bool) {
	var rules []Rule
	if masq && b.podCIDR != "" {
		rules = append(rules, rule("masquerade clients outside the pod network",
			Match{Field: FieldDstAddr, Value: p.clusterIP},
			Match{Field: FieldSrcAddr, Negate: true, Value: b.podCIDR},
			b.markMasq()))
	}
	if !b.endpointChains {
		for _, e := range eps {
			ip := e.Addr.String()
			b.addElement(setHairpin, Element{Key: []string{ip, ip}})
		}
		if p.affinitySeconds == 0 {
			b.addChain(name, nil, append(rules, dnatRule(p, eps))...)
			return
		}
	}
	targets := make([]string, len(eps))
	for i, e := range eps {
		suffix := p.id + "__" + e.key()
		targets[i] = "endpoint-" + suffix
		b.addEndpointChain(targets[i], "affinity-"+suffix, p, e)
		if p.affinitySeconds > 0 {
			rules = append(rules, rule("", Match{Field: FieldSrcAddr, Value: "@affinity-" + suffix}, gotoChain(targets[i])))
		}
	}
	if len(targets) == 1 {
		rules = append(rules, rule("", gotoChain(targets[0])))
	} else {
		rules = append(rules, rule("", NumgenVMap{Targets: targets}))
	}
	b.addChain(name, nil, rules...)
}

// dnatRule DNATs to one of eps, picked at random when there are several.
func dnatRule(p servicePort, eps []endpoint) Rule {
	proto := Match{Field: FieldL4Proto, Value: p.proto}
	if len(eps) == 1 {
		return rule("", proto, DNAT{Addr: eps[0].Addr.String(), Port: eps[0].Port})
	}
	backends := make([]Backend, len(eps))
	for i, e := range eps {
		backends[i] = Backend{Addr: e.Addr.String(), Port: e.Port}
	}
	return rule("", proto, NumgenDNAT{Backends: backends})
}

// addEndpointChain adds the chain that DNATs to one endpoint, recording
// the client for ClientIP affinity and, in the endpoint-chain layout,
// masquerading a pod that reaches itself through the Service (hairpin).
func (b *builder) addEndpointChain(name, affinitySet string, p servicePort, e endpoint) {
	ip := e.Addr.String()
	var rules []Rule
	if b.endpointChains {
		rules = append(rules, rule("hairpin", Match{Field: FieldSrcAddr, Value: ip}, jump(chainMarkMasq)))
	}
	if p.affinitySeconds > 0 {
		b.addSet(&Set{Name: affinitySet, KeyType: []string{"ipv4_addr"},
			Flags: []string{"dynamic", "timeout"}, TimeoutSeconds: p.affinitySeconds})
		rules = append(rules, rule("", UpdateSet{Set: affinitySet, Field: FieldSrcAddr}))
	}
	rules = append(rules, rule("", Match{Field: FieldL4Proto, Value: p.proto}, DNAT{Addr: ip, Port: e.Port}))
	b.addChain(name, nil, rules...)
}
