package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// HTTP versions of TransportConfig.HTTPVersion (a profile's http_version,
// docs/profiles.md).
const (
	// HTTPAuto speaks HTTP/2 to a target that offers it by ALPN in the TLS
	// handshake, as a phone's stack does, and HTTP/1.1 otherwise (always
	// to an http:// target). The default.
	HTTPAuto = "auto"
	// HTTP1 speaks HTTP/1.1 only: no ALPN offer of h2.
	HTTP1 = "http1"
	// HTTP2 speaks HTTP/2 only: over TLS a target that does not choose h2
	// by ALPN fails the handshake; to an http:// target it is HTTP/2 with
	// prior knowledge (h2c).
	HTTP2 = "http2"
)

// ClientStreams bounds one client's requests in flight on its HTTP/2
// connection; more wait in stampede for one of them to end. Servers allow
// 100 streams or more at once (SETTINGS_MAX_CONCURRENT_STREAMS), and
// net/http, when more requests wait for its connection than the server
// allows streams, stalls them all until their timeout.
const ClientStreams = 100

// ErrNoHTTP2 is the handshake error of an https target that does not choose
// h2 by ALPN when the transport speaks HTTP/2 only.
var ErrNoHTTP2 = errors.New("the target did not choose HTTP/2 (ALPN h2) in the TLS handshake, and http_version is http2")

// h2Stats are the protocol counts of a Transport.
type h2Stats struct {
	http1Conns, http2Conns atomic.Int64
	http2Requests          atomic.Int64
	maxStreams             atomic.Int64
}

// h2Pool is the HTTP/2 state of a client pool.
type h2Pool struct {
	// h2 is set once the pool speaks HTTP/2 (its connection chose h2, or
	// the transport speaks h2c): a drop then retires the pool (retire).
	h2 atomic.Bool
	// retired is set when a drop replaced the pool: its connections close
	// once inflight falls to 0.
	retired  atomic.Bool
	inflight atomic.Int64
	// slots holds a token per request in flight over HTTP/2 (ClientStreams).
	slots chan struct{}
	mu    sync.Mutex
	conns []*countedConn // its connections not known closed
}

// speaksHTTP2 reports whether the transport may speak HTTP/2.
func (t *Transport) speaksHTTP2() bool { return t.cfg.HTTPVersion != HTTP1 }

// configureHTTP sets the protocols tr speaks (TransportConfig.HTTPVersion)
// for client pool c (nil: shared). A client's pool never opens a second
// connection for its concurrent requests: over HTTP/2 they are streams of
// its one connection, and past the server's stream limit they wait for a
// stream, as OkHttp's and NSURLSession's do; the shared pool dials another
// connection when its connections are at their stream limit.
func (t *Transport) configureHTTP(tr *http.Transport, c *clientPool) {
	var p http.Protocols
	switch t.cfg.HTTPVersion {
	case HTTP1:
		p.SetHTTP1(true)
	case HTTP2:
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	tr.Protocols = &p
	if !p.HTTP2() {
		return
	}
	tr.HTTP2 = &http.HTTP2Config{StrictMaxConcurrentRequests: c != nil}
	if c != nil {
		c.slots = make(chan struct{}, ClientStreams)
	}
	// net/http writes the ALPN protocols into its TLS configuration: one
	// of its own for each transport.
	cfg := tr.TLSClientConfig.Clone()
	verify := cfg.VerifyConnection
	only2 := t.cfg.HTTPVersion == HTTP2
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if only2 && cs.NegotiatedProtocol != "h2" {
			return ErrNoHTTP2
		}
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		if c != nil && cs.NegotiatedProtocol == "h2" {
			c.h2.Store(true)
		}
		return nil
	}
	tr.TLSClientConfig = cfg
	if only2 && c != nil {
		c.h2.Store(true) // h2c as well
	}
}

// send makes req over tr, the transport of client pool c (nil: shared),
// counting the protocol of the connection it goes over and the streams in
// flight at once on an HTTP/2 one.
func (t *Transport) send(req *http.Request, tr *http.Transport, c *clientPool) (*http.Response, error) {
	if !t.speaksHTTP2() {
		return tr.RoundTrip(req)
	}
	slot := false
	if c != nil && c.h2.Load() {
		ctx := req.Context()
		select {
		case c.slots <- struct{}{}:
			slot = true
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	s := &stream{t: t}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: s.gotConn}))
	if c != nil {
		c.inflight.Add(1)
	}
	resp, err := tr.RoundTrip(req)
	s.end()
	if err != nil {
		if c != nil {
			t.release(c, slot)
		}
		return nil, err
	}
	if resp.ProtoMajor == 2 {
		t.h2.http2Requests.Add(1)
	}
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last != nil {
		t.markProto(last, int32(resp.ProtoMajor))
	}
	if c != nil {
		if resp.ProtoMajor == 2 {
			// Its stream is done when the engine has read its body.
			resp.Body = &poolBody{ReadCloser: resp.Body, t: t, c: c, slot: slot}
		} else {
			t.release(c, slot)
		}
	}
	return resp, nil
}

// stream is one request's place on a connection.
type stream struct {
	t    *Transport
	mu   sync.Mutex
	conn *countedConn // the HTTP/2 connection it is in flight on, if any
	last *countedConn // the connection it went over last
}

// gotConn notes the connection the request goes over (httptrace.GotConn,
// called again when net/http retries it on another one). On an HTTP/2
// connection it counts among the connection's requests in flight from
// then on (with those waiting for a stream under the server's limit):
// before it is written, so that the server never sees more than counted.
func (s *stream) gotConn(info httptrace.GotConnInfo) {
	nc, h2 := info.Conn, false
	if tc, ok := nc.(*tls.Conn); ok {
		h2 = tc.ConnectionState().NegotiatedProtocol == "h2"
		nc = tc.NetConn()
	} else {
		h2 = s.t.cfg.HTTPVersion == HTTP2 // h2c
	}
	cc, ok := nc.(*countedConn)
	if !ok {
		return
	}
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = cc
	if h2 {
		atomicMax(&s.t.h2.maxStreams, cc.streams.Add(1))
		s.conn = cc
	}
}

// end takes the request off its connection: its answer came.
func (s *stream) end() {
	s.mu.Lock()
	cc := s.conn
	s.conn = nil
	s.mu.Unlock()
	if cc != nil {
		cc.streams.Add(-1)
	}
}

// markProto counts cc as a connection of HTTP major version proto the
// first time an answer comes over it.
func (t *Transport) markProto(cc *countedConn, proto int32) {
	if !cc.proto.CompareAndSwap(0, proto) {
		return
	}
	if proto == 2 {
		t.h2.http2Conns.Add(1)
	} else {
		t.h2.http1Conns.Add(1)
	}
}

// poolBody is the body of an answer over a client pool's HTTP/2
// connection: closing it ends the request.
type poolBody struct {
	io.ReadCloser
	t    *Transport
	c    *clientPool
	slot bool
	once sync.Once
}

func (b *poolBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.t.release(b.c, b.slot) })
	return err
}

// release ends one of client pool c's requests, giving back its slot if
// it held one; the last one of a retired pool closes its connections.
func (t *Transport) release(c *clientPool, slot bool) {
	if slot {
		<-c.slots
	}
	if c.inflight.Add(-1) == 0 && c.retired.Load() {
		c.closeConns()
	}
}

// retire replaces the pool of a client whose network went away when the
// pool speaks HTTP/2, and reports whether it did. Its requests in flight
// finish on the old connection, which then closes; its next requests dial
// a new one. (An HTTP/2 connection cannot refuse a new request's write as
// an HTTP/1.1 one does, for net/http would not retry it: see Drop.) The
// new pool keeps the old one's TLS session cache, as a phone's stack does.
func (t *Transport) retire(client int, c *clientPool) bool {
	if !c.h2.Load() {
		return false
	}
	fresh := &clientPool{}
	fresh.tr = t.newHTTPTransport(ClientConns, fresh)
	fresh.tr.TLSClientConfig.ClientSessionCache = c.tr.TLSClientConfig.ClientSessionCache
	if !t.clients[client].CompareAndSwap(c, fresh) {
		return true // another drop replaced it first
	}
	c.retired.Store(true)
	c.tr.CloseIdleConnections()
	if c.inflight.Load() == 0 {
		c.closeConns()
	}
	return true
}

// keep notes a connection the pool dialled.
func (c *clientPool) keep(cc *countedConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	live := c.conns[:0]
	for _, o := range c.conns {
		if !o.closed.Load() {
			live = append(live, o)
		}
	}
	c.conns = append(live, cc)
}

// closeConns closes every connection of the pool.
func (c *clientPool) closeConns() {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, cc := range conns {
		cc.Close()
	}
	c.tr.CloseIdleConnections()
}

// dialled notes a new connection: one a client pool that may speak HTTP/2
// keeps (closeConns), and, when the transport speaks HTTP/1.1 only, its
// protocol.
func (t *Transport) dialled(cc *countedConn) {
	if !t.speaksHTTP2() {
		t.markProto(cc, 1)
		return
	}
	if cc.pool != nil {
		cc.pool.keep(cc)
	}
}
