// Package allocator hands out Service cluster IPs and node ports.
//
// Each range's state is a bitmap stored under one key (by default
// /registry/ranges/serviceips and /registry/ranges/servicenodeports) as a
// small JSON document holding the range and the bitmap. Every change reads
// the document, flips a bit and writes it back with a compare-and-swap on
// the revision it read, retrying on conflict, so any number of API servers
// sharing the store never hand out the same value twice, and the state
// survives restarts.
package allocator
