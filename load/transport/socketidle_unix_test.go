//go:build unix

package transport

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// needSocketPeek does nothing on Unix, where socketIdle can peek at a
// sender's idle connection.
func needSocketPeek(*testing.T) {}

// waitReadable blocks until c has something to read (the server's FIN
// counts), without reading it.
func waitReadable(t *testing.T, c net.Conn) {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN) // false: wait until readable
	})
	if err != nil {
		t.Fatal(err)
	}
}
