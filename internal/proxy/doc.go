// Package proxy is Skiff's service proxy: it watches Services and
// EndpointSlices, computes the node's rules with the pure core in
// internal/proxy/rules and programs them into the kernel.
//
// The loop is thin. Informer events only mark the state dirty; a sync runs
// at most once per MinSyncPeriod, lists the caches, asks a rules.Computer
// for the new RuleSet (reusing the rules of unchanged Services) and hands
// the previous and the new RuleSet to an applier:
//
//   - nftables (the default): rules are sent over netlink with
//     github.com/google/nftables, translated from the typed model to the
//     bytecode nft(8) would generate. The first sync, every periodic
//     resync and every sync after a failure replace the whole table in
//     one batch; the others send rules.Diff as one batch, so a sync costs
//     what changed, not what exists. (The older applier that runs
//     `nft -f -` remains as the unexported mode nftables-tool, which the
//     tests and the benchmark compare against.)
//   - iptables (the fallback when nft is missing): the model, computed
//     in its endpoint-chain layout (rules.Input.EndpointChains), is
//     translated to iptables chains (verdict maps expand to one rule per
//     element, numgen to statistic matches, affinity sets to the recent
//     match) and loaded with iptables-restore --noflush.
//
// Cleanup removes everything either mode installed. The Proxy exports
// Prometheus metrics on the Registerer it is given, and Bench measures how
// long programming and updating many Services takes.
package proxy
