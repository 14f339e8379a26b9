package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stampede-load/stampede/load/model"
)

func TestSourceAddrs(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	def := DefaultPortRange // 28,232 ports
	addrs := func(n int) []netip.Addr {
		var s []netip.Addr
		for i := 1; i <= n; i++ {
			s = append(s, netip.AddrFrom4([4]byte{127, 0, 0, byte(i)}))
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		dst   netip.Addr
		conns int
		ports PortRange
		want  []netip.Addr
	}{
		{"shared pool fits one address", lo, 1024, def, nil},
		{"half the range fits one address", lo, 14116, def, nil},
		{"one more needs two", lo, 14117, def, addrs(2)},
		{"20,000 clients need two", lo, 20000, def, addrs(2)},
		{"100,000 clients need eight", lo, 100000, def, addrs(8)},
		{"other loopback destinations too", netip.MustParseAddr("127.1.2.3"), 20000, def, addrs(2)},
		{"IPv4-mapped loopback", netip.MustParseAddr("::ffff:127.0.0.1"), 20000, def, addrs(2)},
		{"never more than 254", lo, 10_000_000, def, addrs(254)},
		{"narrow range", lo, 3, PortRange{First: 1000, Last: 1001}, addrs(3)},
		{"not loopback", netip.MustParseAddr("10.0.0.1"), 100000, def, nil},
		{"IPv6 loopback", netip.MustParseAddr("::1"), 100000, def, nil},
		{"no ports known", lo, 100000, PortRange{}, nil},
		{"no connections", lo, 0, def, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SourceAddrs(tc.dst, tc.conns, tc.ports); !slices.Equal(got, tc.want) {
				t.Errorf("SourceAddrs(%s, %d, %v) = %v, want %v", tc.dst, tc.conns, tc.ports, got, tc.want)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	if r, err := ParsePortRange("32768\t60999\n"); err != nil || r != DefaultPortRange || r.Size() != 28232 {
		t.Errorf("ParsePortRange = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "32768", "a b", "60999 32768", "0 100", "1 70000", "1 2 3"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
	if r := ReadPortRange(); r.Size() <= 0 {
		t.Errorf("ReadPortRange = %+v", r)
	}
}

// remoteIPs serves 200 to every request and records the source address of
// each connection it accepts.
type remoteIPs struct {
	mu  sync.Mutex
	ips map[string]int
}

func (s *remoteIPs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.ips[host]++
	s.mu.Unlock()
}

// send sends one GET for client idx (none when idx < 0) and reads the answer.
func send(hc *http.Client, url string, idx int) error {
	ctx := context.Background()
	if idx >= 0 {
		ctx = WithClient(ctx, idx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// get is send from the test's goroutine, failing the test on an error.
func get(t *testing.T, hc *http.Client, url string, idx int) {
	t.Helper()
	if err := send(hc, url, idx); err != nil {
		t.Fatal(err)
	}
}

// TestTransportSpreadsDialsOverLoopbackSources dials a loopback server from
// 127.0.0.1, 127.0.0.2 and 127.0.0.3 in turn, as a port range too narrow
// for the clients asks, and the server sees each address.
func TestTransportSpreadsDialsOverLoopbackSources(t *testing.T) {
	seen := &remoteIPs{ips: map[string]int{}}
	srv := httptest.NewServer(seen)
	defer srv.Close()
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 3, Ports: PortRange{First: 1000, Last: 1001}})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i := range 3 {
		get(t, hc, srv.URL, i) // one connection per client
	}
	want := map[string]int{"127.0.0.1": 1, "127.0.0.2": 1, "127.0.0.3": 1}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.ips) != 3 || seen.ips["127.0.0.1"] != 1 || seen.ips["127.0.0.2"] != 1 || seen.ips["127.0.0.3"] != 1 {
		t.Errorf("requests came from %v, want %v", seen.ips, want)
	}
	if st := tr.Stats(); st.Dials != 3 || st.SourceAddrs != 3 || st.PeakOpen != 3 {
		t.Errorf("stats %+v, want 3 dials from 3 source addresses, 3 open", st)
	}
}

// TestTransportPerClientConnections: each client dials its own connection,
// while requests of no client share the pool; a dropped client dials again.
func TestTransportPerClientConnections(t *testing.T) {
	srv := httptest.NewServer(&remoteIPs{ips: map[string]int{}})
	defer srv.Close()
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 5})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i := range 5 {
		get(t, hc, srv.URL, i)
	}
	get(t, hc, srv.URL, -1) // preflight, admin calls: the shared pool
	if st := tr.Stats(); st.Dials != 6 || st.PeakOpen != 6 || st.SourceAddrs != 1 || st.TLSHandshakes != 0 {
		t.Fatalf("stats %+v, want 6 dials and 6 open from one address", st)
	}
	before := tr.Stats().Dials
	tr.Drop(2)
	get(t, hc, srv.URL, 2)
	if st := tr.Stats(); st.Dials <= before {
		t.Errorf("client 2 sent again after a drop over an old connection: dials %d, before %d", st.Dials, before)
	}
	tr.Drop(99) // no such client: nothing happens
	tr.Drop(-1)
}

// TestTransportCountsTLSHandshakes: against an https target each client's
// first request makes a TLS handshake.
func TestTransportCountsTLSHandshakes(t *testing.T) {
	srv := httptest.NewTLSServer(&remoteIPs{ips: map[string]int{}})
	defer srv.Close()
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 4, TLS: cfg})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i := range 4 {
		get(t, hc, srv.URL, i)
	}
	if st := tr.Stats(); st.Dials != 4 || st.TLSHandshakes != 4 {
		t.Errorf("stats %+v, want 4 dials and 4 TLS handshakes", st)
	}
	if cfg.VerifyConnection != nil {
		t.Error("the caller's TLS configuration was changed")
	}
}

// TestTransportSharedPoolIsBounded: the shared pool never opens more than
// its bound, however many clients send at once.
func TestTransportSharedPoolIsBounded(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	tr := NewTransport(TransportConfig{Clients: 16, SharedConns: 4})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := send(hc, srv.URL, i); err != nil {
				t.Error(err)
			}
		})
	}
	for range 4 {
		<-arrived // four requests hold the four connections
	}
	close(release)
	wg.Wait()
	if st := tr.Stats(); st.Dials != 4 || st.PeakOpen != 4 {
		t.Errorf("stats %+v, want 4 dials, 4 open", st)
	}
}

// TestDialFailuresAreClassifiedAndWarnedOnce dials from an address this
// host does not have: the kernel answers EADDRNOTAVAIL, as it does when the
// ephemeral ports run out; the request is a network error with code
// ports_exhausted, counted, and warned about once, with the numbers.
func TestDialFailuresAreClassifiedAndWarnedOnce(t *testing.T) {
	srv := httptest.NewServer(&remoteIPs{ips: map[string]int{}})
	defer srv.Close()
	var warnings []string
	tr := NewTransport(TransportConfig{Warn: func(s string) { warnings = append(warnings, s) }})
	defer tr.CloseIdleConnections()
	tr.spread = []netip.Addr{netip.MustParseAddr("192.0.2.1")} // TEST-NET-1: not on this host
	hc := &http.Client{Transport: tr}
	for range 2 {
		ctx := context.Background()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("a dial from 192.0.2.1 succeeded")
		}
		if !errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Fatalf("err %v, want EADDRNOTAVAIL", err)
		}
		if o := Classify(ctx, nil, nil, err); o.Class != model.ClassNetwork || o.Code != CodePortsExhausted {
			t.Errorf("classified %+v, want network/%s", o, CodePortsExhausted)
		}
	}
	if st := tr.Stats(); st.PortsExhausted != 2 || st.Dials != 0 {
		t.Errorf("stats %+v, want 2 dials out of ports, none made", st)
	}
	p := ReadPortRange()
	if ports := fmt.Sprintf("%d ports each (%d–%d", p.Size(), p.First, p.Last); len(warnings) != 1 ||
		!strings.Contains(warnings[0], "out of ephemeral ports") || !strings.Contains(warnings[0], ports) {
		t.Errorf("warnings %q, want one naming the ports (%s)", warnings, ports)
	}
}

func TestDialCode(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{wrap(syscall.EADDRNOTAVAIL), CodePortsExhausted},
		{wrap(syscall.EMFILE), CodeFDsExhausted},
		{wrap(syscall.ENFILE), CodeFDsExhausted},
		{wrap(syscall.ECONNREFUSED), ""},
		{errors.New("other"), ""},
	} {
		if got := dialCode(tc.err); got != tc.want {
			t.Errorf("dialCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestFDExhaustionWarnsWithTheLimit: a dial refused for want of descriptors
// is counted and warned about once, naming the limit.
func TestFDExhaustionWarnsWithTheLimit(t *testing.T) {
	var warnings []string
	tr := NewTransport(TransportConfig{FDLimit: 1024, Warn: func(s string) { warnings = append(warnings, s) }})
	for range 3 {
		tr.dialFailed("127.0.0.1:80", 1, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)})
	}
	if st := tr.Stats(); st.FDsExhausted != 3 {
		t.Errorf("fds_exhausted %d, want 3", st.FDsExhausted)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "a limit of 1024 descriptors") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestMaxOpenKeepsDescriptorsFree: past MaxOpen connections a dial fails
// as out of descriptors before the process runs out, and says so once.
func TestMaxOpenKeepsDescriptorsFree(t *testing.T) {
	srv := httptest.NewServer(&remoteIPs{ips: map[string]int{}})
	defer srv.Close()
	var warnings []string
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 4, MaxOpen: 2, FDLimit: 1000,
		Warn: func(s string) { warnings = append(warnings, s) }})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get(t, hc, srv.URL, 0)
	get(t, hc, srv.URL, 1)
	for _, client := range []int{2, 3} {
		err := send(hc, srv.URL, client)
		if o := Classify(context.Background(), nil, nil, err); o.Class != model.ClassNetwork || o.Code != CodeFDsExhausted {
			t.Errorf("client %d: err %v classified %+v, want network/%s", client, err, o, CodeFDsExhausted)
		}
	}
	if st := tr.Stats(); st.Dials != 2 || st.PeakOpen != 2 || st.FDsExhausted != 2 {
		t.Errorf("stats %+v, want 2 dials, 2 open, 2 refused", st)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "at most 2 connections fit in the descriptor limit") ||
		!strings.Contains(warnings[0], "a limit of 1000 descriptors") {
		t.Errorf("warnings %q", warnings)
	}
	// A client that had a connection keeps it.
	get(t, hc, srv.URL, 0)
}
