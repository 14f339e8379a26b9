package transport

import (
	"net"
	"syscall"
)

// rawConnOf is the raw connection under c (a counted connection's own),
// or nil when it has none.
func rawConnOf(c net.Conn) syscall.RawConn {
	if cc, ok := c.(*countedConn); ok {
		c = cc.Conn
	}
	sys, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sys.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// awaitAnswer parks the caller in the network poller until rc has bytes to
// read, its deadline passes or it is closed. A sender calls it between
// writing a request and reading the answer: a read straight after the
// write finds nothing as a rule (the server has not answered yet) and
// costs a system call that fails with EAGAIN before the same wait.
// Errors are left to the read that follows.
func awaitAnswer(rc syscall.RawConn) {
	if rc == nil {
		return
	}
	waited := false
	_ = rc.Read(func(uintptr) bool {
		if waited {
			return true
		}
		waited = true
		return false // wait for readiness, then call again
	})
}
