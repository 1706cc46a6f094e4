// Package proxy is Skiff's service proxy: it watches Services and
// EndpointSlices, computes the node's rules with the pure core in
// internal/proxy/rules and programs them into the kernel.
//
// The loop is thin. Informer events only mark the state dirty; a sync runs
// at most once per MinSyncPeriod, lists the caches, asks a rules.Computer
// for the new RuleSet (reusing the rules of unchanged Services) and hands
// the previous and the new RuleSet to an applier:
//
//   - nftables (the default): the first sync, every periodic resync and
//     every sync after a failure load the whole table in one `nft -f -`
//     transaction; the others load rules.Diff as an incremental
//     transaction, so a sync costs what changed, not what exists.
//   - iptables (the fallback when nft is missing): the same model is
//     translated to iptables chains (verdict maps expand to one rule per
//     element, numgen to statistic matches, affinity sets to the recent
//     match) and loaded with iptables-restore --noflush.
//
// Cleanup removes everything either mode installed. The Proxy exports
// Prometheus metrics on the Registerer it is given, and Bench measures how
// long programming and updating many Services takes.
package proxy
