package driver

// prefetch asks the CPU to bring the n bytes at addr into its caches
// without waiting for them: a fleet of millions does not fit in the
// caches, and the client due next is fetched while this one steps.
//
//go:noescape
func prefetch(addr, n uintptr)
