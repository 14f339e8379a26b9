//go:build !unix

package transport

// socketIdle cannot peek at a socket without blocking outside Unix, so it
// says no: the sender dials a fresh connection rather than send a request
// on one the server may have closed while it sat idle.
func socketIdle(uintptr) bool { return false }
