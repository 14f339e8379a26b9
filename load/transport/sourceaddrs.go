package transport

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// PortRange is the kernel's range of ephemeral ports, First to Last inclusive.
type PortRange struct{ First, Last int }

// DefaultPortRange is Linux's default ephemeral port range.
var DefaultPortRange = PortRange{First: 32768, Last: 60999}

// Size is how many ports the range holds.
func (r PortRange) Size() int {
	if r.First <= 0 || r.Last < r.First {
		return 0
	}
	return r.Last - r.First + 1
}

// portRangeFile is where Linux keeps the ephemeral port range.
const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// ReadPortRange reads the ephemeral port range from
// /proc/sys/net/ipv4/ip_local_port_range; DefaultPortRange when it cannot.
func ReadPortRange() PortRange {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return DefaultPortRange
	}
	r, err := ParsePortRange(string(b))
	if err != nil {
		return DefaultPortRange
	}
	return r
}

// ParsePortRange reads "FIRST LAST", as ip_local_port_range holds it.
func ParsePortRange(s string) (PortRange, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return PortRange{}, fmt.Errorf("port range %q: want two numbers", s)
	}
	first, err1 := strconv.Atoi(f[0])
	last, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return PortRange{}, fmt.Errorf("port range %q: want two ports, the first not above the second", s)
	}
	return PortRange{First: first, Last: last}, nil
}

// maxSources bounds the spread: 127.0.0.1 to 127.0.0.254.
const maxSources = 254

// SourceAddrs is the local addresses that dials to dst spread over, round
// robin: nil (the kernel chooses) unless dst is in 127.0.0.0/8 and the run's
// conns connections need more ephemeral ports than one source address has
// towards one destination (a connection is a 4-tuple: source address and
// port, destination address and port). Each connection is counted twice:
// once open, once in TIME_WAIT after a wave of closes and redials (an outage
// and its restore). Then it is 127.0.0.1, 127.0.0.2, … as many as that
// takes (at most 254); Linux routes all of 127.0.0.0/8 to the loopback
// interface, so no set-up is needed.
func SourceAddrs(dst netip.Addr, conns int, ports PortRange) []netip.Addr {
	per := ports.Size()
	if !isLoopback4(dst) || per <= 0 || conns <= 0 {
		return nil
	}
	n := min((2*conns+per-1)/per, maxSources)
	if n <= 1 {
		return nil
	}
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)})
	}
	return addrs
}

// isLoopback4 reports whether a is in 127.0.0.0/8.
func isLoopback4(a netip.Addr) bool {
	a = a.Unmap()
	return a.Is4() && a.As4()[0] == 127
}
