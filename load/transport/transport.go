package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// Connection bounds.
const (
	// SharedConns bounds the shared pool: at most this many connections
	// to a host; a request that finds none free waits for one, and the
	// wait counts in its latency.
	SharedConns = 1024
	// ClientConns bounds one client's connections to a host: one, as a
	// phone speaking HTTP/2 has (NSURLSession and OkHttp multiplex every
	// request to a host over one connection). Over HTTP/1.1 a client's
	// overlapping requests take turns on it, and the wait counts in their
	// latency; the fleet needs one descriptor per client, however slow
	// the target.
	ClientConns = 1
	// SuspendAfter is how long (simulated time) a client stays in the
	// background before its connections count as gone: the OS suspends a
	// backgrounded app within seconds (iOS: about 5 s, 30 s with a
	// background task) and reclaims its sockets.
	SuspendAfter = 30 * time.Second
)

// Dial failure codes of Outcome.Code (class network).
const (
	// CodePortsExhausted: the dial found no free ephemeral port (EADDRNOTAVAIL).
	CodePortsExhausted = "ports_exhausted"
	// CodeFDsExhausted: the process or the system is out of file descriptors (EMFILE, ENFILE).
	CodeFDsExhausted = "fds_exhausted"
)

// dialCode is the Outcome code of a failed request's error: a dial out of
// ports or descriptors, else "".
func dialCode(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return CodePortsExhausted
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return CodeFDsExhausted
	}
	return ""
}

// clientKey is the context key of the simulated client a request is sent for.
type clientKey struct{}

// WithClient marks ctx as client idx's: a per-client Transport sends the
// requests made with it over that client's own connections.
func WithClient(ctx context.Context, idx int) context.Context {
	return context.WithValue(ctx, clientKey{}, idx)
}

// ClientOf is the client WithClient marked ctx with.
func ClientOf(ctx context.Context) (int, bool) {
	idx, ok := ctx.Value(clientKey{}).(int)
	return idx, ok
}

// Conns is the pool the engine's requests take their connections from: the
// engine tells it when a client's connections die and records its counts.
type Conns interface {
	// Drop closes client's idle connections: its network went away.
	Drop(client int)
	// Stats counts the connections opened so far.
	Stats() reports.Connections
}

// TransportConfig configures a Transport.
type TransportConfig struct {
	// PerClient gives every client (see WithClient) a connection of its
	// own (ClientConns); without it every request shares one pool.
	// Requests of no client (preflight, admin calls) use the shared pool
	// either way.
	PerClient bool
	// Clients is the number of clients of the run, indexes 0 to Clients-1.
	Clients int
	// SharedConns bounds the shared pool; default SharedConns.
	SharedConns int
	// TLS is the TLS configuration for https targets; nil: the defaults.
	TLS *tls.Config
	// TLSResumption keeps TLS sessions to resume on a redial: one cache
	// per client (PerClient), one for the shared pool (tlscache.go).
	TLSResumption bool
	// Ports is the kernel's ephemeral port range; zero: ReadPortRange.
	Ports PortRange
	// FDLimit is the process's file descriptor limit, for warnings.
	FDLimit uint64
	// MaxOpen, if above 0, bounds the connections open at once: a dial
	// beyond it fails as out of descriptors (EMFILE) before the process
	// is, so that it keeps descriptors for its result files.
	MaxOpen int
	// Warn, if set, receives a one-line warning (with the numbers) the first
	// time a dial fails for want of ports, and the first time for want of
	// file descriptors.
	Warn func(string)
	// HTTPVersion is the HTTP versions the transport speaks: HTTPAuto (""
	// too), HTTP1 or HTTP2 (see h2.go).
	HTTPVersion string
}

// Transport is the http.RoundTripper of a run: a shared keep-alive pool, or
// keep-alive connections per simulated client, created when the client
// first sends. It counts dials, TLS handshakes and open connections, and
// spreads dials to a loopback target over several source addresses when
// one address has too few ephemeral ports (SourceAddrs).
type Transport struct {
	cfg     TransportConfig
	tls     *tls.Config
	shared  *http.Transport
	clients []atomic.Pointer[clientPool]
	meter   *tlsMeter // dials and TLS handshakes (tlscache.go)
	// spread is the source addresses of dials to 127.0.0.0/8, nil when the
	// kernel chooses.
	spread []netip.Addr
	next   atomic.Uint64 // round robin over spread

	dials, handshakes, open, peak atomic.Int64
	portsOut, fdsOut              atomic.Int64
	sources                       atomic.Int64
	warnPorts, warnFDs            sync.Once
	h2                            h2Stats
}

// NewTransport returns a Transport; close its connections with
// CloseIdleConnections when the run is over.
func NewTransport(cfg TransportConfig) *Transport {
	if cfg.SharedConns <= 0 {
		cfg.SharedConns = SharedConns
	}
	if cfg.Ports.Size() <= 0 {
		cfg.Ports = ReadPortRange()
	}
	t := &Transport{cfg: cfg, meter: newTLSMeter(time.Now())}
	t.tls = sharedTLS(countHandshakes(cfg.TLS, &t.handshakes), cfg.TLSResumption)
	t.shared = t.newHTTPTransport(cfg.SharedConns, nil)
	conns := min(cfg.Clients, cfg.SharedConns)
	if cfg.PerClient {
		t.clients = make([]atomic.Pointer[clientPool], cfg.Clients)
		conns = cfg.Clients
	}
	t.spread = SourceAddrs(netip.AddrFrom4([4]byte{127, 0, 0, 1}), conns, cfg.Ports)
	return t
}

// countHandshakes returns a copy of cfg (the defaults when nil) that adds
// one to n at each TLS handshake that completes.
func countHandshakes(cfg *tls.Config, n *atomic.Int64) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c := cfg.Clone()
	verify := c.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		n.Add(1)
		return nil
	}
	return c
}

// clientPool is one client's connections.
type clientPool struct {
	tr      *http.Transport
	session *clientSession // its TLS session cache; nil without resumption
	// gen counts the drops: a connection dialled before the last one is
	// dead, and is closed instead of being written to.
	gen atomic.Uint32
	h2Pool
}

// newHTTPTransport is one keep-alive pool of at most conns connections per
// host, the connections of client pool c (nil: shared), speaking the
// configured HTTP versions (configureHTTP).
func (t *Transport) newHTTPTransport(conns int, c *clientPool) *http.Transport {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return t.dial(ctx, network, addr, c)
		},
		MaxConnsPerHost:       conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSClientConfig:       t.clientTLS(c),
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	t.configureHTTP(tr, c)
	return tr
}

// RoundTrip sends req over its client's connections (per client) or the
// shared pool.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if c := t.pool(req.Context()); c != nil {
		return t.send(t.traced(req), c.tr, c)
	}
	return t.send(t.traced(req), t.shared, nil)
}

// pool is the connection pool of the client ctx belongs to; nil: the
// shared one.
func (t *Transport) pool(ctx context.Context) *clientPool {
	idx, ok := ClientOf(ctx)
	if t.clients == nil || !ok || idx < 0 || idx >= len(t.clients) {
		return nil
	}
	slot := &t.clients[idx]
	if c := slot.Load(); c != nil {
		return c
	}
	c := &clientPool{}
	c.tr = t.newHTTPTransport(ClientConns, c)
	slot.CompareAndSwap(nil, c)
	return slot.Load()
}

// Drop ends client's connections (per client; a no-op on the shared pool):
// the idle ones are closed now, one in use once its request is answered
// and the client writes to it again (over HTTP/2: once its streams are
// answered, see retire); either way the client's next request dials again.
func (t *Transport) Drop(client int) {
	if client < 0 || client >= len(t.clients) {
		return
	}
	if c := t.clients[client].Load(); c != nil {
		if t.retire(client, c) {
			return
		}
		c.gen.Add(1)
		c.tr.CloseIdleConnections()
	}
}

// MaxInFlight is how many requests the engine should keep on the wire at
// once (Config.MaxInFlight): the shared pool's size, or 0 (no bound) with
// connections per client.
func (t *Transport) MaxInFlight() int {
	if t.cfg.PerClient {
		return 0
	}
	return t.cfg.SharedConns
}

// DialShared opens a counted connection of the shared pool, as the pool's
// own dials (source addresses, descriptor bound): for SenderTransport.
func (t *Transport) DialShared(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := t.dial(ctx, network, addr, nil)
	if err == nil {
		t.markProto(conn.(*countedConn), 1) // a sender speaks HTTP/1.1
	}
	return conn, err
}

// CloseIdleConnections closes every idle connection of every pool.
func (t *Transport) CloseIdleConnections() {
	t.shared.CloseIdleConnections()
	for i := range t.clients {
		if c := t.clients[i].Load(); c != nil {
			c.tr.CloseIdleConnections()
		}
	}
}

// Stats counts the connections opened so far.
func (t *Transport) Stats() reports.Connections {
	return reports.Connections{
		Dials:          t.dials.Load(),
		TLSHandshakes:  t.handshakes.Load(),
		PeakOpen:       t.peak.Load(),
		PortsExhausted: t.portsOut.Load(),
		FDsExhausted:   t.fdsOut.Load(),
		SourceAddrs:    int(t.sources.Load()),
		HTTP1Conns:     t.h2.http1Conns.Load(),
		HTTP2Conns:     t.h2.http2Conns.Load(),
		HTTP2Requests:  t.h2.http2Requests.Load(),
		MaxStreams:     t.h2.maxStreams.Load(),
		Protocol:       reports.ConnProtocol(t.h2.http1Conns.Load(), t.h2.http2Conns.Load()),
	}
}

// dial opens a counted TCP connection for client pool c (nil: shared),
// from the next source address when the target is on loopback and the
// dials are spread.
func (t *Transport) dial(ctx context.Context, network, addr string, c *clientPool) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	srcs := t.sourcesFor(addr)
	if len(srcs) > 0 {
		src := srcs[t.next.Add(1)%uint64(len(srcs))]
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		d.Control = bindAddressNoPort
	}
	atomicMax(&t.sources, int64(max(1, len(srcs))))
	var gen uint32
	if c != nil {
		gen = c.gen.Load()
	}
	open := t.open.Add(1) // taken before the dial, so that MaxOpen holds
	if m := t.cfg.MaxOpen; m > 0 && open > int64(m) {
		t.open.Add(-1)
		err := &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: at most %d connections fit in the descriptor limit with descriptors kept free for stampede's files", syscall.EMFILE, m)}
		t.dialFailed(addr, len(srcs), err)
		return nil, err
	}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		t.open.Add(-1)
		t.dialFailed(addr, len(srcs), err)
		return nil, err
	}
	t.dials.Add(1)
	t.meter.dialed(time.Now())
	atomicMax(&t.peak, open)
	cc := &countedConn{Conn: conn, open: &t.open, pool: c, gen: gen}
	t.dialled(cc)
	return cc, nil
}

// sourcesFor is the source addresses of a dial to addr: the spread for a
// target in 127.0.0.0/8, else none.
func (t *Transport) sourcesFor(addr string) []netip.Addr {
	if len(t.spread) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !isLoopback4(ip) {
		return nil
	}
	return t.spread
}

// dialFailed counts a dial that failed for want of ports or descriptors,
// and warns the first time, with the numbers.
func (t *Transport) dialFailed(addr string, sources int, err error) {
	warn := t.cfg.Warn
	if warn == nil {
		warn = func(string) {}
	}
	switch dialCode(err) {
	case CodePortsExhausted:
		t.portsOut.Add(1)
		t.warnPorts.Do(func() {
			p := t.cfg.Ports
			warn(fmt.Sprintf("out of ephemeral ports: a dial to %s failed (%v) with %d connections open from %d source %s, %d ports each (%d–%d, /proc/sys/net/ipv4/ip_local_port_range); such requests count as network errors: widen the range, shard the run over more hosts, or use connections: shared",
				addr, errors.Unwrap(err), t.open.Load(), max(1, sources), pluralAddr(max(1, sources)), p.Size(), p.First, p.Last))
		})
	case CodeFDsExhausted:
		t.fdsOut.Add(1)
		t.warnFDs.Do(func() {
			warn(fmt.Sprintf("out of file descriptors: a dial to %s failed (%v) with %d connections open and a limit of %s descriptors; such requests count as network errors: raise the limit (ulimit -Hn), run fewer clients per process (--shard), or use connections: shared",
				addr, errors.Unwrap(err), t.open.Load(), limitString(t.cfg.FDLimit)))
		})
	}
}

func pluralAddr(n int) string {
	if n == 1 {
		return "address"
	}
	return "addresses"
}

func limitString(n uint64) string {
	if n == 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}

// atomicMax raises m to v if v is larger.
func atomicMax(m *atomic.Int64, v int64) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

// errDropped is the write error of a connection its client dropped. A
// request that meets it has written nothing, so net/http retries it on a
// new connection.
var errDropped = errors.New("connection dropped: the client lost its network")

// countedConn takes itself off the open count when it is first closed, and
// refuses writes once its client pool dropped it.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed atomic.Bool
	pool   *clientPool // nil: shared
	gen    uint32      // pool's gen when dialled
	// proto is the HTTP major version it spoke (0: not yet known),
	// streams its requests in flight (HTTP/2).
	proto   atomic.Int32
	streams atomic.Int64
}

func (c *countedConn) Write(b []byte) (int, error) {
	if c.pool != nil && c.pool.gen.Load() != c.gen {
		c.Close()
		return 0, errDropped
	}
	return c.Conn.Write(b)
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}
