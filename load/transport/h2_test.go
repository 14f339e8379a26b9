package transport

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// h2Server is a TLS test server that counts the connections it accepts and
// closes, the requests by HTTP major version and the most in flight at
// once; requests to /hold wait until release is closed.
type h2Server struct {
	srv     *httptest.Server
	arrived chan struct{} // one per /hold request
	release chan struct{}
	once    sync.Once

	mu                    sync.Mutex
	opened, closed        int
	closedCh              chan struct{} // one per closed connection
	protos                map[int]int
	inflight, maxInflight int
	remotes               map[string]bool
}

// newH2Server starts an h2Server: TLS with h2 offered by ALPN when h2,
// plain HTTP with h2c (prior knowledge) accepted when h2c.
func newH2Server(t *testing.T, tls, h2 bool, maxStreams uint32) *h2Server {
	t.Helper()
	s := &h2Server{arrived: make(chan struct{}, 64), release: make(chan struct{}), closedCh: make(chan struct{}, 64),
		protos: map[int]int{}, remotes: map[string]bool{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch st {
		case http.StateNew:
			s.opened++
		case http.StateClosed, http.StateHijacked:
			s.closed++
			s.closedCh <- struct{}{}
		}
	}
	if maxStreams > 0 {
		s.srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: int(maxStreams)}
	}
	switch {
	case tls:
		s.srv.EnableHTTP2 = h2
		s.srv.StartTLS()
	case h2:
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		s.srv.Config.Protocols = &p
		s.srv.Start()
	default:
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.free) // first: Close waits for the handlers
	return s
}

// free answers the /hold requests, now and from now on.
func (s *h2Server) free() { s.once.Do(func() { close(s.release) }) }

func (s *h2Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.protos[r.ProtoMajor]++
	s.remotes[r.RemoteAddr] = true
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	s.mu.Unlock()
	if r.URL.Path == "/hold" {
		s.arrived <- struct{}{}
		<-s.release
	}
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// tlsConfig is a TLS configuration that trusts the server.
func (s *h2Server) tlsConfig() *TransportConfig {
	return &TransportConfig{TLS: s.srv.Client().Transport.(*http.Transport).TLSClientConfig}
}

// wait waits for n /hold requests to arrive, failing the test if they do
// not within a generous bound (they never would if they were serialised).
func (s *h2Server) wait(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-s.arrived:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d concurrent requests reached the server", i, n)
		}
	}
}

// counts is the server's connections, requests by version and most in
// flight at once.
func (s *h2Server) counts() (opened int, protos map[int]int, maxInflight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[int]int{}
	for k, v := range s.protos {
		p[k] = v
	}
	return s.opened, p, s.maxInflight
}

// concurrently sends n requests to path for client idx at once and
// returns their errors once all are answered.
func concurrently(hc *http.Client, url string, idx, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = send(hc, url, idx) })
	}
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestPerClientHTTP2MultiplexesOneConnection: a client's concurrent API
// calls against a target offering h2 go as streams of its one connection:
// the server sees one connection and all of them in flight at once.
func TestPerClientHTTP2MultiplexesOneConnection(t *testing.T) {
	s := newH2Server(t, true, true, 0)
	cfg := *s.tlsConfig()
	cfg.PerClient, cfg.Clients = true, 2
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	const n = 5
	done := make(chan []error)
	go func() { done <- concurrently(hc, s.srv.URL+"/hold", 0, n) }()
	s.wait(t, n) // all five in flight together: they cannot be taking turns
	s.free()
	noErrors(t, <-done)
	get(t, hc, s.srv.URL, 0) // a refresh after them: the same connection

	opened, protos, maxIn := s.counts()
	if opened != 1 || protos[2] != n+1 || protos[1] != 0 || maxIn != n {
		t.Errorf("server saw %d connections, requests by version %v, %d in flight at most; want 1 connection, %d HTTP/2 requests, %d at once", opened, protos, maxIn, n+1, n)
	}
	st := tr.Stats()
	want := reports.Connections{Dials: 1, TLSHandshakes: 1, PeakOpen: 1, SourceAddrs: 1,
		Protocol: reports.ProtoHTTP2, HTTP2Conns: 1, HTTP2Requests: n + 1, MaxStreams: n}
	if st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}
}

// TestSharedHTTP2DialsPastTheStreamLimit: the shared pool multiplexes
// requests over a connection up to the server's stream limit and dials
// another one past it. (A client's pool never dials a second connection:
// its requests wait for a stream; net/http counts requests waiting for the
// connection against the limit, so more of them than the limit stall until
// their timeout. Servers allow 100 streams or more; a client has a few
// requests in flight. See docs/scale.md#connections.)
func TestSharedHTTP2DialsPastTheStreamLimit(t *testing.T) {
	s := newH2Server(t, true, true, 2)
	cfg := *s.tlsConfig()
	cfg.Clients = 4
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get(t, hc, s.srv.URL, -1) // the connection learns the limit

	done := make(chan []error)
	go func() { done <- concurrently(hc, s.srv.URL+"/hold", -1, 4) }()
	s.wait(t, 4) // two connections, two streams each
	s.free()
	noErrors(t, <-done)
	opened, protos, maxIn := s.counts()
	st := tr.Stats()
	// Requests past the limit may each dial: net/http then closes the
	// connections it does not need. Go's server may refuse a stream that
	// follows the end of another too closely; net/http sends it again.
	if opened < 2 || maxIn != 4 || st.HTTP2Conns < 2 || protos[1] != 0 {
		t.Errorf("server saw %d connections, %d requests at once, requests by version %v, stats %+v; want two HTTP/2 connections carrying four requests at once", opened, maxIn, protos, st)
	}
}

// TestHTTP1ForcedSpeaksHTTP1: with http_version http1 the same target
// gets HTTP/1.1: a client's concurrent requests take turns on its one
// connection, and the shared pool opens a connection for each request in
// flight.
func TestHTTP1ForcedSpeaksHTTP1(t *testing.T) {
	s := newH2Server(t, true, true, 0)
	cfg := *s.tlsConfig()
	cfg.PerClient, cfg.Clients, cfg.HTTPVersion = true, 2, HTTP1
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	noErrors(t, concurrently(hc, s.srv.URL, 0, 4))
	opened, protos, maxIn := s.counts()
	if opened != 1 || protos[1] != 4 || protos[2] != 0 || maxIn != 1 {
		t.Errorf("per client: server saw %d connections, requests by version %v, %d at once; want one HTTP/1.1 connection taking turns", opened, protos, maxIn)
	}

	done := make(chan []error)
	go func() { done <- concurrently(hc, s.srv.URL+"/hold", -1, 3) }() // the shared pool
	s.wait(t, 3)
	s.free()
	noErrors(t, <-done)
	opened, protos, _ = s.counts()
	if opened != 4 || protos[2] != 0 {
		t.Errorf("shared: server saw %d connections in all, requests by version %v; want 3 more HTTP/1.1 connections", opened, protos)
	}
	if st := tr.Stats(); st.Protocol != reports.ProtoHTTP1 || st.HTTP1Conns != 4 || st.HTTP2Conns != 0 || st.MaxStreams != 0 || st.HTTP2Requests != 0 {
		t.Errorf("stats %+v, want 4 HTTP/1.1 connections and no HTTP/2", st)
	}
}

// TestAutoFallsBackToHTTP1: a TLS target that does not offer h2 gets
// HTTP/1.1; with http_version http2 its handshake fails instead, before
// any request is written.
func TestAutoFallsBackToHTTP1(t *testing.T) {
	s := newH2Server(t, true, false, 0)
	cfg := *s.tlsConfig()
	cfg.PerClient, cfg.Clients = true, 1
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	get(t, &http.Client{Transport: tr}, s.srv.URL, 0)
	if st := tr.Stats(); st.Protocol != reports.ProtoHTTP1 || st.HTTP1Conns != 1 {
		t.Errorf("stats %+v, want one HTTP/1.1 connection", st)
	}

	cfg.HTTPVersion = HTTP2
	only2 := NewTransport(cfg)
	defer only2.CloseIdleConnections()
	// A Go server that speaks ALPN refuses the handshake itself.
	err := send(&http.Client{Transport: only2}, s.srv.URL, 0)
	if err == nil || !strings.Contains(err.Error(), "no application protocol") {
		t.Errorf("http2 against a target without h2: %v, want a failed handshake", err)
	}
	// One that ignores ALPN is refused by stampede.
	s.srv.TLS.NextProtos = nil
	err = send(&http.Client{Transport: only2}, s.srv.URL, 0)
	if !errors.Is(err, ErrNoHTTP2) {
		t.Errorf("http2 against a target without ALPN: %v, want %v", err, ErrNoHTTP2)
	}
	if _, protos, _ := s.counts(); protos[1] != 1 {
		t.Errorf("requests by version %v: the http2 transport wrote a request over HTTP/1.1", protos)
	}
	if st := only2.Stats(); st.Protocol != "" || st.HTTP1Conns+st.HTTP2Conns != 0 {
		t.Errorf("stats %+v: connections that carried no answer counted by protocol", st)
	}
}

// TestHTTP2OverPlainHTTPIsH2C: http_version http2 against an http://
// target speaks HTTP/2 with prior knowledge, multiplexed as over TLS.
func TestHTTP2OverPlainHTTPIsH2C(t *testing.T) {
	s := newH2Server(t, false, true, 0)
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 1, HTTPVersion: HTTP2})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	done := make(chan []error)
	go func() { done <- concurrently(hc, s.srv.URL+"/hold", 0, 3) }()
	s.wait(t, 3)
	s.free()
	noErrors(t, <-done)
	opened, protos, _ := s.counts()
	if opened != 1 || protos[2] != 3 {
		t.Errorf("server saw %d connections, requests by version %v; want one h2c connection", opened, protos)
	}
	if st := tr.Stats(); st.Protocol != reports.ProtoHTTP2 || st.MaxStreams != 3 || st.TLSHandshakes != 0 {
		t.Errorf("stats %+v, want HTTP/2, 3 streams, no TLS", st)
	}

	// A server that does not accept h2c answers no request.
	plain := newH2Server(t, false, false, 0)
	if err := send(hc, plain.srv.URL, 0); err == nil {
		t.Error("h2c to a server without it: no error")
	}
	if st := tr.Stats(); st.HTTP2Conns != 1 || st.HTTP1Conns != 0 {
		t.Errorf("stats %+v: the failed connection counted", st)
	}
}

// TestDroppedHTTP2ClientRedials: a client whose network went away while a
// request was in flight on its HTTP/2 connection sends its next request
// over a new connection; the old one closes once its request is answered.
func TestDroppedHTTP2ClientRedials(t *testing.T) {
	s := newH2Server(t, true, true, 0)
	cfg := *s.tlsConfig()
	cfg.PerClient, cfg.Clients = true, 1
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	held := make(chan error)
	go func() { held <- send(hc, s.srv.URL+"/hold", 0) }()
	s.wait(t, 1)
	tr.Drop(0)
	get(t, hc, s.srv.URL, 0) // not over the dropped connection
	if opened, _, _ := s.counts(); opened != 2 {
		t.Fatalf("server saw %d connections after the drop, want 2", opened)
	}
	s.free()
	if err := <-held; err != nil {
		t.Errorf("the request in flight at the drop: %v, want its answer", err)
	}
	select {
	case <-s.closedCh:
	case <-time.After(20 * time.Second):
		t.Fatal("the dropped connection stayed open after its request was answered")
	}
	get(t, hc, s.srv.URL, 0) // the new connection is kept
	if st := tr.Stats(); st.Dials != 2 || st.HTTP2Conns != 2 {
		t.Errorf("stats %+v, want 2 dials over HTTP/2", st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != 1 {
		t.Errorf("server saw %d connections closed, want the dropped one", s.closed)
	}
}

// TestPerClientHTTP2BoundsItsStreams: a client never has more than
// ClientStreams requests in flight on its connection; the others wait in
// stampede and go as the first ones end.
func TestPerClientHTTP2BoundsItsStreams(t *testing.T) {
	s := newH2Server(t, true, true, 0)
	s.arrived = make(chan struct{}, ClientStreams+10)
	cfg := *s.tlsConfig()
	cfg.PerClient, cfg.Clients = true, 1
	tr := NewTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get(t, hc, s.srv.URL, 0) // the client's connection speaks HTTP/2

	done := make(chan []error)
	go func() { done <- concurrently(hc, s.srv.URL+"/hold", 0, ClientStreams+10) }()
	s.wait(t, ClientStreams)
	s.free()
	noErrors(t, <-done)
	opened, _, maxIn := s.counts()
	if st := tr.Stats(); opened != 1 || maxIn != ClientStreams || st.MaxStreams != ClientStreams {
		t.Errorf("server saw %d connections and %d requests at once, stats %+v; want one connection, %d requests at once", opened, maxIn, st, ClientStreams)
	}
}
