package rules

// Names of the fixed chains and sets of the table.
const (
	chainServices       = "services"
	chainMarkMasq       = "mark-for-masquerade"
	chainMasquerading   = "masquerading"
	chainEndpointsCheck = "endpoints-check"
	chainReject         = "reject-chain"

	mapServiceIPs          = "service-ips"
	mapServiceNodePorts    = "service-nodeports"
	mapNoEndpointServices  = "no-endpoint-services"
	mapNoEndpointNodePorts = "no-endpoint-nodeports"
	setNodePortIPs         = "nodeport-ips"
	setHairpin             = "hairpin"

	// MasqueradeMark is the packet mark bit that asks for masquerading.
	MasqueradeMark uint32 = 0x4000
)

// Key types of the verdict maps.
func ipProtoPortKey() []string { return []string{"ipv4_addr", "inet_proto", "inet_service"} }
func protoPortKey() []string   { return []string{"inet_proto", "inet_service"} }

func rule(comment string, exprs ...Expr) Rule { return Rule{Exprs: exprs, Comment: comment} }
func jump(chain string) Verdict               { return Verdict{Kind: Jump, Chain: chain} }
func gotoChain(chain string) Verdict          { return Verdict{Kind: Goto, Chain: chain} }

// markMasq asks for masquerading: inline in the compact layout, where a
// jump would add edges to the graph the kernel validates, else through
// the chain the iptables translator knows.
func (b *builder) markMasq() Expr {
	if b.endpointChains {
		return jump(chainMarkMasq)
	}
	return SetMark{Op: MarkOr, Bits: MasqueradeMark}
}

// addBase adds the chains and maps every table has, whatever the Services.
func (b *builder) addBase() {
	for _, name := range []string{mapServiceIPs, mapNoEndpointServices} {
		b.addSet(&Set{Name: name, KeyType: ipProtoPortKey(), Verdict: true})
	}
	for _, name := range []string{mapServiceNodePorts, mapNoEndpointNodePorts} {
		b.addSet(&Set{Name: name, KeyType: protoPortKey(), Verdict: true})
	}
	if len(b.nodeIPs) > 0 {
		ips := &Set{Name: setNodePortIPs, KeyType: []string{"ipv4_addr"}, Comment: "node addresses for NodePorts"}
		b.addSet(ips)
		for _, ip := range b.nodeIPs {
			b.addElement(ips.Name, Element{Key: []string{ip}})
		}
	}
	if !b.endpointChains {
		b.addSet(&Set{Name: setHairpin, KeyType: []string{"ipv4_addr", "ipv4_addr"},
			Comment: "endpoint . endpoint: a pod reaching itself through a Service"})
	}
	b.addHooks()

	lookup := VMap{Key: []Field{FieldDstAddr, FieldL4Proto, FieldDstPort}, Map: mapServiceIPs}
	b.addChain(chainServices, nil,
		rule("", lookup),
		rule("", append(b.nodeAddrMatch(), VMap{Key: []Field{FieldL4Proto, FieldDstPort}, Map: mapServiceNodePorts})...))

	check := VMap{Key: []Field{FieldDstAddr, FieldL4Proto, FieldDstPort}, Map: mapNoEndpointServices}
	b.addChain(chainEndpointsCheck, nil,
		rule("", check),
		rule("", append(b.nodeAddrMatch(), VMap{Key: []Field{FieldL4Proto, FieldDstPort}, Map: mapNoEndpointNodePorts})...))

	b.addChain(chainReject, nil,
		rule("", Match{Field: FieldL4Proto, Value: "tcp"}, Reject{TCPReset: true}),
		rule("", Reject{}))
	b.addChain(chainMarkMasq, nil, rule("", SetMark{Op: MarkOr, Bits: MasqueradeMark}))
	b.addChain(chainMasquerading, nil,
		rule("", MarkClear{Mask: MasqueradeMark}, Verdict{Kind: Return}),
		rule("", SetMark{Op: MarkXor, Bits: MasqueradeMark}),
		rule("", Masquerade{FullyRandom: true}))
}

// addHooks adds the base chains: nat hooks send new connections to the
// service maps, filter hooks reject connections to Services without
// endpoints, postrouting masquerades marked packets.
func (b *builder) addHooks() {
	toServices := rule("", jump(chainServices))
	b.addChain("nat-prerouting", &Hook{Type: "nat", Hook: "prerouting", Priority: -100}, toServices)
	b.addChain("nat-output", &Hook{Type: "nat", Hook: "output", Priority: -100}, toServices)
	post := []Rule{rule("", jump(chainMasquerading))}
	if !b.endpointChains {
		post = append(post, rule("hairpin", CtStatusDNAT{},
			InSet{Key: []Field{FieldSrcAddr, FieldDstAddr}, Set: setHairpin}, Masquerade{FullyRandom: true}))
	}
	b.addChain("nat-postrouting", &Hook{Type: "nat", Hook: "postrouting", Priority: 100}, post...)
	check := rule("", CtStateNew{}, jump(chainEndpointsCheck))
	for _, hook := range []string{"input", "forward", "output"} {
		b.addChain("filter-"+hook, &Hook{Type: "filter", Hook: hook, Priority: -110}, check)
	}
}

// nodeAddrMatch matches packets for the addresses NodePorts listen on:
// the configured node addresses, or else any local non-loopback address.
func (b *builder) nodeAddrMatch() []Expr {
	if len(b.nodeIPs) > 0 {
		return []Expr{Match{Field: FieldDstAddr, Value: "@" + setNodePortIPs}}
	}
	return []Expr{FibLocal{Field: FieldDstAddr}, Match{Field: FieldDstAddr, Negate: true, Value: "127.0.0.0/8"}}
}
