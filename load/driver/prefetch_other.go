//go:build !amd64

package driver

// prefetch does nothing where the driver has no prefetch instruction.
func prefetch(addr, n uintptr) {}
