// Package proxy is stampede proxy: a reverse proxy in front of a session
// backend that tells sign-ins, refreshes and API calls apart by the
// profile's target, injects auth-aware faults on a timeline and live, and
// measures what the fleet of clients did in return, from the server's
// side (docs/proxy.md).
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Defaults of Config.
const (
	DefaultMaxBody          = 1 << 20
	DefaultRetryLimit       = 1
	DefaultRetryWindow      = 2 * time.Second
	DefaultGenerationWindow = 2 * time.Second
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the backend's base URL; Transport reaches it (nil:
	// http.DefaultTransport's clone with an idle pool of 1,024 connections
	// per host, so a busy proxy reuses its connections rather than dial).
	Upstream  *url.URL
	Transport http.RoundTripper
	// Profile's target section classifies requests; its events are the
	// fault timeline; its seed draws the faults.
	Profile profiles.Profile
	// MaxBody bounds request bodies (413 beyond) and the sign-in and
	// refresh answers the proxy reads (502 beyond).
	MaxBody int64
	// RetryLimit and RetryWindow: a request (method, path with query,
	// body hash, call id headers, session) sent again after a 401, more
	// than RetryLimit times in a row, is a retry loop; without a call id,
	// sent more than RetryWindow after the 401 it is a new call.
	RetryLimit  int
	RetryWindow time.Duration
	// GenerationWindow: a refresh of a session whose newest token a
	// refresh issued less than this ago, and no API call has borne yet,
	// is a duplicate refresh of the same generation.
	GenerationWindow time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Proxy is the reverse proxy. Its ServeHTTP is safe for concurrent use.
type Proxy struct {
	cfg      Config
	classify *Classifier
	fleet    *fleet
	faults   *faults
	overhead *overhead
	// basePath is the upstream URL's path without its trailing slash,
	// which every forwarded path follows.
	basePath string
	start    time.Time
	// done releases requests held by a blackhole when the proxy stops.
	done chan struct{}
	// skipped names the profile's events the proxy does not apply.
	skipped []string
}

// Skipped names the profile's events the proxy does not apply (client
// side events such as clock_skew), for a warning.
func (p *Proxy) Skipped() []string { return p.skipped }

// New checks cfg and returns a proxy whose timeline starts now. Problems
// with the profile name its field.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == nil || (cfg.Upstream.Scheme != "http" && cfg.Upstream.Scheme != "https") || cfg.Upstream.Host == "" {
		return nil, errors.New("upstream: want an http:// or https:// URL with a host")
	}
	if cfg.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 1024
		cfg.Transport = tr
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.RetryLimit <= 0 {
		cfg.RetryLimit = DefaultRetryLimit
	}
	if cfg.RetryWindow <= 0 {
		cfg.RetryWindow = DefaultRetryWindow
	}
	if cfg.GenerationWindow <= 0 {
		cfg.GenerationWindow = DefaultGenerationWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, err := NewClassifier(cfg.Profile)
	if err != nil {
		return nil, err
	}
	tl, skipped, err := timeline(cfg.Profile)
	if err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, classify: c, start: cfg.Now(), done: make(chan struct{}), skipped: skipped,
		overhead: newOverhead(), basePath: strings.TrimRight(cfg.Upstream.Path, "/")}
	p.fleet = newFleet(p.start, cfg.RetryLimit, cfg.RetryWindow, cfg.GenerationWindow)
	p.faults = newFaults(cfg.Profile.Seed)
	for _, f := range tl {
		p.faults.add(f)
	}
	return p, nil
}

// Start is when the proxy's timeline began.
func (p *Proxy) Start() time.Time { return p.start }

// Stop releases the requests a blackhole holds; call it once, when the
// proxy stops serving.
func (p *Proxy) Stop() { close(p.done) }

// AddFault starts e now, for its duration (0: until cleared), as a live
// fault; an event the proxy cannot apply is an error.
func (p *Proxy) AddFault(e profiles.Event) (Fault, error) {
	if err := checkEvent(e); err != nil {
		return Fault{}, err
	}
	at := p.cfg.Now().Sub(p.start)
	f := Fault{Event: e, Start: at, Live: true}
	if e.Type != profiles.EventKeyRotation && e.Duration > 0 {
		f.End = at + e.Duration.D()
	}
	p.faults.add(f)
	return f, nil
}

// ClearFaults ends every fault active now and returns how many.
func (p *Proxy) ClearFaults() int { return p.faults.clear(p.cfg.Now().Sub(p.start)) }

// Faults lists the faults on the timeline.
func (p *Proxy) Faults() []Fault { return p.faults.snapshot() }

// hopHeaders are the hop-by-hop headers a proxy does not forward.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// dropHopHeaders deletes the hop-by-hop headers from h, by their
// canonical keys (Header.Del would canonicalize each again).
func dropHopHeaders(h http.Header) {
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// headerValue is h's first value of the canonical key k, as Header.Get
// without canonicalizing k again.
func headerValue(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// writeError answers a JSON error; it never echoes the request.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\":%q,\"message\":%q}\n", code, msg)
}

// ServeHTTP forwards r to the upstream, through the faults, and records
// what it was and how it was answered, and the proxy's own time for it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	body, err := readBody(w, r, p.cfg.MaxBody)
	read := time.Now()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			p.fleet.count(0, 1)
			writeError(w, http.StatusRequestEntityTooLarge, "request_too_large",
				fmt.Sprintf("request body over %d bytes (stampede proxy --max-body)", p.cfg.MaxBody))
			return
		}
		p.fleet.count(0, 1)
		writeError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
		return
	}
	q := p.classify.classify(r, body)
	now := p.cfg.Now()
	fl := p.fleet.begin(now, q, r, body)
	if q.kind != KindOther {
		// Recorded before the client reads the answer: a client may act on
		// it (call the API with the new token, retry after a 401, refresh
		// again) before the handler returns. The latency is to the
		// answer's header.
		w = &recordWriter{ResponseWriter: w, p: p, fl: fl}
	}
	status, ans := p.serve(w, r, body, q, fl)
	if !fl.ended {
		p.fleet.end(p.cfg.Now(), fl, status, ans)
	}
	p.overhead.record(time.Since(began), read.Sub(began)+fl.wait)
}

// readBody reads r's body up to limit bytes: nothing for a request without
// one, into a slice of the declared length for one with a Content-Length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody { // the server's body of a request without one
		return nil, nil
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength <= 0 || r.ContentLength > limit { // unknown, or too large
		return io.ReadAll(rd)
	}
	body := make([]byte, r.ContentLength)
	n, err := io.ReadFull(rd, body)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("request body: %d of %d bytes: %w", n, r.ContentLength, err)
	}
	return body[:n], err
}

// recordWriter records fl's answer in the fleet once, with the status,
// just before the answer's header goes out.
type recordWriter struct {
	http.ResponseWriter
	p    *Proxy
	fl   *flight
	done bool
}

func (w *recordWriter) WriteHeader(status int) {
	if !w.done {
		w.done = true
		w.p.fleet.end(w.p.cfg.Now(), w.fl, status, w.fl.ans)
		w.fl.ended = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (resetConn).
func (w *recordWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve applies the faults to one request and forwards it; it returns the
// status the client got and the tokens an answer issued.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, body []byte, q request, fl *flight) (int, answer) {
	issuedAt := func() time.Time {
		if q.kind != KindAPI || q.bearer == "" {
			return time.Time{}
		}
		if fl.token != nil && !fl.token.at.IsZero() {
			return fl.token.at
		}
		c, _ := decodeJWT(q.bearer)
		return c.Iat
	}
	d := p.faults.decide(p.cfg.Now().Sub(p.start), p.start, q.kind, fl.session, issuedAt)
	if d.name != "" {
		p.fleet.fault(d.name)
	}
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		held := time.Now()
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return 499, answer{}
		}
		fl.wait += time.Since(held)
	}
	switch d.act {
	case act401:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "token rejected ("+d.name+", stampede proxy)")
		return http.StatusUnauthorized, answer{}
	case act429:
		if d.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((d.retryAfter+time.Second-1)/time.Second)))
		}
		writeError(w, http.StatusTooManyRequests, "rate_limited", "token endpoint brownout (stampede proxy)")
		return http.StatusTooManyRequests, answer{}
	case act503:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "token endpoint brownout (stampede proxy)")
		return http.StatusServiceUnavailable, answer{}
	case actReset:
		resetConn(w)
		return 0, answer{}
	case actBlackhole:
		var until <-chan time.Time
		held := time.Now()
		if d.until > 0 {
			t := time.NewTimer(time.Until(p.start.Add(d.until)))
			defer t.Stop()
			until = t.C
		}
		select {
		case <-until: // the outage ended: the held request goes on
			fl.wait += time.Since(held)
		case <-r.Context().Done():
			return 499, answer{}
		case <-p.done:
			resetConn(w)
			return 0, answer{}
		}
	}
	if d.slow.on() {
		p.fleet.fault("slow_body")
		w = &slowWriter{ResponseWriter: w, s: d.slow, done: r.Context().Done(), stop: p.done}
	}
	return p.forward(w, r, body, q, fl)
}

// resetConn drops the client's connection without an answer: an RST on
// HTTP/1.1, the stream aborted on HTTP/2.
func resetConn(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// forward sends the request upstream and copies the answer back.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body []byte, q request, fl *flight) (int, answer) {
	u := *p.cfg.Upstream
	u.Path = p.basePath + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	// Built as http.NewRequestWithContext would, without printing and
	// parsing the URL again.
	out := (&http.Request{Method: r.Method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: r.Header.Clone(), Host: u.Host}).WithContext(r.Context())
	if out.Header == nil {
		out.Header = http.Header{}
	}
	if len(body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(body))
		// The Transport sends it again on a fresh connection when a kept-alive
		// one turns out closed.
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	dropHopHeaders(out.Header)
	if c := headerValue(r.Header, "Connection"); c != "" {
		for f := range strings.SplitSeq(c, ",") {
			out.Header.Del(strings.TrimSpace(f))
		}
	}
	out.ContentLength = int64(len(body))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header.Set("X-Forwarded-For", host)
	}
	sent := time.Now()
	resp, err := p.cfg.Transport.RoundTrip(out)
	fl.wait += time.Since(sent)
	if err != nil {
		if errors.Is(r.Context().Err(), context.Canceled) {
			return 499, answer{}
		}
		p.fleet.count(1, 0)
		writeError(w, http.StatusBadGateway, "upstream_unreachable", "stampede proxy could not reach the upstream")
		return http.StatusBadGateway, answer{}
	}
	defer resp.Body.Close()
	dropHopHeaders(resp.Header)
	var ans answer
	if q.kind == KindSignIn || q.kind == KindRefresh {
		reading := time.Now()
		b, err := io.ReadAll(io.LimitReader(resp.Body, p.cfg.MaxBody+1))
		fl.wait += time.Since(reading)
		switch {
		case err != nil:
			p.fleet.count(1, 0)
			writeError(w, http.StatusBadGateway, "upstream_error", "stampede proxy could not read the upstream's answer")
			return http.StatusBadGateway, answer{}
		case int64(len(b)) > p.cfg.MaxBody:
			p.fleet.count(1, 0)
			writeError(w, http.StatusBadGateway, "upstream_answer_too_large",
				fmt.Sprintf("the upstream's answer is over %d bytes (stampede proxy --max-body)", p.cfg.MaxBody))
			return http.StatusBadGateway, answer{}
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			ans = p.classify.readAnswer(resp.Header, b)
			fl.ans = ans
		}
		copyHeader(w.Header(), resp.Header)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b)
		return resp.StatusCode, ans
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	buf := copyBufs.Get().(*[]byte)
	copying := time.Now()
	_, _ = io.CopyBuffer(w, resp.Body, *buf)
	fl.wait += time.Since(copying)
	copyBufs.Put(buf)
	return resp.StatusCode, ans
}

// copyHeader gives dst src's values; it shares src's slices, which the
// proxy no longer changes once it copies them.
func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}
