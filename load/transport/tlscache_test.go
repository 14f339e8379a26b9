package transport

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// resumptions records, per TLS handshake the server completes, whether it
// resumed a session.
type resumptions struct {
	mu      sync.Mutex
	resumed []bool
}

func (r *resumptions) take() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.resumed
	r.resumed = nil
	return out
}

// newTLSServer is an https test server speaking TLS 1.3 with session
// tickets, which records each handshake's resumption.
func newTLSServer(t *testing.T) (*httptest.Server, *resumptions) {
	t.Helper()
	rec := &resumptions{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13, VerifyConnection: func(cs tls.ConnectionState) error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.resumed = append(rec.resumed, cs.DidResume)
		return nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, rec
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPerClientSessionCache: a client's first dial is a full handshake; a
// redial after its connection dropped resumes its own session; a cold
// start forgets it; another client has no session of the first's.
func TestPerClientSessionCache(t *testing.T) {
	srv, rec := newTLSServer(t)
	start := time.Now()
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 2, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig, TLSResumption: true})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	get(t, hc, srv.URL, 0) // the first dial: no ticket yet
	tr.Drop(0)             // an outage: the connection died
	get(t, hc, srv.URL, 0) // the redial resumes
	get(t, hc, srv.URL, 1) // another phone: a ticket of its own to get
	tr.ColdStart(0)        // the app was killed
	get(t, hc, srv.URL, 0) // full again
	tr.Drop(0)
	get(t, hc, srv.URL, 0) // and resumes the new session
	if got, want := rec.take(), []bool{false, true, false, false, true}; !equalBools(got, want) {
		t.Fatalf("server saw resumed %v, want %v", got, want)
	}
	r, err := tr.TLS(start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r == nil || r.HandshakesFull != 3 || r.HandshakesResumed != 2 || r.ResumptionRatio != 0.4 || !r.Resumption || r.HandshakeMs.Max <= 0 {
		t.Fatalf("TLS figures %+v, want 3 full, 2 resumed, ratio 0.4, latencies", r)
	}
	var dials, hs int64
	for i := range r.Timeline.Dials {
		dials += r.Timeline.Dials[i]
		hs += r.Timeline.HandshakesFull[i] + r.Timeline.HandshakesResumed[i]
	}
	if dials != 5 || hs != 5 {
		t.Errorf("timeline: %d dials, %d handshakes; want 5 and 5", dials, hs)
	}
}

// TestNoResumptionMakesEveryHandshakeFull: with TLSResumption off a
// redial pays a full handshake, per client and on the shared pool.
func TestNoResumptionMakesEveryHandshakeFull(t *testing.T) {
	srv, rec := newTLSServer(t)
	start := time.Now()
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 1, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get(t, hc, srv.URL, 0)
	tr.Drop(0)
	get(t, hc, srv.URL, 0)
	get(t, hc, srv.URL, -1)
	tr.CloseIdleConnections()
	get(t, hc, srv.URL, -1)
	if got, want := rec.take(), []bool{false, false, false, false}; !equalBools(got, want) {
		t.Fatalf("server saw resumed %v, want %v", got, want)
	}
	if r, _ := tr.TLS(start, time.Now()); r == nil || r.HandshakesFull != 4 || r.ResumptionRatio != 0 || r.Resumption {
		t.Errorf("TLS figures %+v, want 4 full, ratio 0", r)
	}
}

// TestSharedPoolSharesOneSessionCache: with shared connections a new
// connection of the pool resumes the session of an earlier one.
func TestSharedPoolSharesOneSessionCache(t *testing.T) {
	srv, rec := newTLSServer(t)
	tr := NewTransport(TransportConfig{Clients: 2, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig, TLSResumption: true})
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get(t, hc, srv.URL, 0)
	tr.CloseIdleConnections()
	get(t, hc, srv.URL, 1)
	if got, want := rec.take(), []bool{false, true}; !equalBools(got, want) {
		t.Fatalf("server saw resumed %v, want %v", got, want)
	}
}

// TestTLSFiguresAbsentWithoutTLS: a plain-HTTP run has no TLS section.
func TestTLSFiguresAbsentWithoutTLS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	tr := NewTransport(TransportConfig{PerClient: true, Clients: 1, TLSResumption: true})
	defer tr.CloseIdleConnections()
	get(t, &http.Client{Transport: tr}, srv.URL, 0)
	if r, err := tr.TLS(time.Now(), time.Now()); r != nil || err != nil {
		t.Errorf("TLS figures %+v, %v; want none", r, err)
	}
}
