package transport

import (
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/reports"
)

// TLSBucket is the width of the dial and handshake timeline's buckets, the
// run timeline's.
const TLSBucket = 100 * time.Millisecond

// sharedSessions bounds the shared pool's TLS session cache: one session
// per server name, which every connection of the pool resumes.
const sharedSessions = 64

// ColdStarter is a pool whose clients can lose their TLS sessions: a cold
// start (the app was killed) forgets them, as a phone's stack does.
type ColdStarter interface {
	// ColdStart ends client's connections and forgets its TLS session.
	ColdStart(client int)
}

// clientSession is one client's TLS session cache: the newest session
// ticket of its one connection, as a phone's HTTP stack keeps it for the
// app's lifetime. A cold start clears it.
type clientSession struct {
	mu      sync.Mutex
	key     string
	session *tls.ClientSessionState
}

// Get returns the session kept for key.
func (c *clientSession) Get(key string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil || c.key != key {
		return nil, false
	}
	return c.session, true
}

// Put keeps cs for key (the only one kept); nil forgets it.
func (c *clientSession) Put(key string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs == nil {
		if c.key == key {
			c.session = nil
		}
		return
	}
	c.key, c.session = key, cs
}

func (c *clientSession) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.key, c.session = "", nil
}

// sharedTLS is the TLS configuration of the shared pool: t.tls with one
// session cache for the pool when resumption is on.
func sharedTLS(cfg *tls.Config, resumption bool) *tls.Config {
	if resumption && cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(sharedSessions)
	}
	if !resumption {
		cfg.ClientSessionCache = nil
	}
	return cfg
}

// clientTLS is the TLS configuration of client pool c: t.tls with c's
// own session cache when resumption is on, t.tls itself when it is off.
func (t *Transport) clientTLS(c *clientPool) *tls.Config {
	if c == nil || !t.cfg.TLSResumption {
		return t.tls
	}
	cfg := t.tls.Clone()
	c.session = &clientSession{}
	cfg.ClientSessionCache = c.session
	return cfg
}

// ColdStart ends client's connections, as Drop, and forgets its TLS
// session: its next connection pays a full handshake.
func (t *Transport) ColdStart(client int) {
	if client < 0 || client >= len(t.clients) {
		return
	}
	if c := t.clients[client].Load(); c != nil && c.session != nil {
		c.session.clear()
	}
	t.Drop(client)
}

// tlsMeter records the run's dials and TLS handshakes: counts, the
// handshake latency histogram and a timeline from its origin. Dials and
// handshakes are rare next to requests, so one lock serves.
type tlsMeter struct {
	origin time.Time

	mu                       sync.Mutex
	hist                     *hdrhistogram.Histogram
	full, resumed, failed    int64
	dials, hsFull, hsResumed []int64
	attempted                bool
}

func newTLSMeter(origin time.Time) *tlsMeter {
	return &tlsMeter{origin: origin, hist: reports.NewHistogram()}
}

// bucket is the timeline bucket of instant at (0 before the origin).
func (m *tlsMeter) bucket(at time.Time) int {
	return max(0, int(at.Sub(m.origin)/TLSBucket))
}

func bump(s []int64, i int) []int64 {
	for len(s) <= i {
		s = append(s, 0)
	}
	s[i]++
	return s
}

// dialed records a TCP connection opened at at.
func (m *tlsMeter) dialed(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dials = bump(m.dials, m.bucket(at))
}

// handshake records a handshake that ended at end after d.
func (m *tlsMeter) handshake(end time.Time, d time.Duration, resumed bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempted = true
	if err != nil {
		m.failed++
		return
	}
	reports.RecordLatency(m.hist, d)
	b := m.bucket(end)
	if resumed {
		m.resumed++
		m.hsResumed = bump(m.hsResumed, b)
	} else {
		m.full++
		m.hsFull = bump(m.hsFull, b)
	}
}

// traced is req with a trace that times its connection's TLS handshake,
// if it dials one: https requests only.
func (t *Transport) traced(req *http.Request) *http.Request {
	if req.URL.Scheme != "https" {
		return req
	}
	// net/http may dial more than one connection for a request (one it
	// then hands to another), each with its handshake on a goroutine of its
	// own: the starts queue, and a handshake that ends takes the oldest.
	var mu sync.Mutex
	var starts []time.Time
	trace := &httptrace.ClientTrace{
		TLSHandshakeStart: func() {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
		},
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			now := time.Now()
			mu.Lock()
			start := now
			if len(starts) > 0 {
				start, starts = starts[0], starts[1:]
			}
			mu.Unlock()
			t.meter.handshake(now, now.Sub(start), cs.DidResume, err)
		},
	}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
}

// TLS is the run's TLS figures from start to end (the run's wall clock):
// handshakes full and resumed, their latency, and the dials and
// handshakes per TLSBucket; nil when no TLS handshake was attempted. Dials
// and handshakes before start (the pre-flight) fall in the first bucket.
func (t *Transport) TLS(start, end time.Time) (*reports.TLS, error) {
	m := t.meter
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.attempted {
		return nil, nil
	}
	n := max(1, int((end.Sub(start)+TLSBucket-1)/TLSBucket))
	shift := int(start.Sub(m.origin) / TLSBucket)
	rebucket := func(s []int64) []int64 {
		out := make([]int64, n)
		for i, v := range s {
			out[min(n-1, max(0, i-shift))] += v
		}
		return out
	}
	hdr, err := reports.EncodeHistogram(m.hist)
	if err != nil {
		return nil, err
	}
	r := &reports.TLS{
		Resumption:        t.cfg.TLSResumption,
		HandshakesFull:    m.full,
		HandshakesResumed: m.resumed,
		HandshakesFailed:  m.failed,
		HandshakeMs:       reports.Summarize(m.hist),
		HDR:               hdr,
		Timeline: reports.TLSTimeline{
			BucketMs:          int(TLSBucket / time.Millisecond),
			Dials:             rebucket(m.dials),
			HandshakesFull:    rebucket(m.hsFull),
			HandshakesResumed: rebucket(m.hsResumed),
		},
	}
	r.Derive()
	return r, nil
}
