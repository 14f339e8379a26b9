//go:build !linux

package transport

import "syscall"

// bindAddressNoPort does nothing outside Linux: the bind picks the port.
func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }
