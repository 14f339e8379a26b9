//go:build unix

package transport

import (
	"errors"
	"syscall"
)

// socketIdle reports whether the socket fd is open with nothing to read:
// a peek that does not block finds no bytes and no end of stream.
func socketIdle(fd uintptr) bool {
	var buf [1]byte
	n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n < 0 && (errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK))
}
