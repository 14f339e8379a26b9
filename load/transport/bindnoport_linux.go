package transport

import "syscall"

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h, Linux ≥ 4.2).
const ipBindAddressNoPort = 0x18

// bindAddressNoPort is a net.Dialer Control that sets
// IP_BIND_ADDRESS_NO_PORT: a dial bound to a source address then gets its
// port at connect, where the kernel picks one free for that destination
// (the whole 4-tuple), not one free for every destination. Kernels without
// it ignore the error: the bind picks the port, as before.
func bindAddressNoPort(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
}
