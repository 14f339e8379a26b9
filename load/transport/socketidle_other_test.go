//go:build !unix

package transport

import (
	"net"
	"testing"
)

// needSocketPeek skips a test that relies on a sender keeping its idle
// connection: outside Unix socketIdle cannot peek, so senders redial.
func needSocketPeek(t *testing.T) {
	t.Helper()
	t.Skip("socketIdle cannot peek at a socket outside Unix: senders redial instead of keeping idle connections")
}

// waitReadable cannot wait for a socket to turn readable without reading
// it outside Unix: it skips the test.
func waitReadable(t *testing.T, _ net.Conn) {
	t.Helper()
	t.Skip("cannot peek at a socket outside Unix")
}
