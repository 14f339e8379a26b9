package backend

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Endpoint names used in Stats.Endpoints and the /metrics endpoint label.
const (
	EndpointSignIn  = "sign_in"
	EndpointToken   = "token"
	EndpointTouch   = "touch"
	EndpointEnd     = "end"
	EndpointJWKS    = "jwks"
	EndpointAPI     = "api"
	EndpointAdmin   = "admin"
	EndpointMetrics = "metrics"
	EndpointOther   = "other"
)

// endpoint indexes the response counters.
type endpoint uint8

const (
	epSignIn endpoint = iota
	epToken
	epTouch
	epEnd
	epJWKS
	epAPI
	epAdmin
	epMetrics
	epOther
	numEndpoints
)

// endpointNames maps an endpoint index to its name.
var endpointNames = [numEndpoints]string{
	epSignIn:  EndpointSignIn,
	epToken:   EndpointToken,
	epTouch:   EndpointTouch,
	epEnd:     EndpointEnd,
	epJWKS:    EndpointJWKS,
	epAPI:     EndpointAPI,
	epAdmin:   EndpointAdmin,
	epMetrics: EndpointMetrics,
	epOther:   EndpointOther,
}

// maxStatusCode bounds the status codes net/http lets a handler write.
const maxStatusCode = 999

// Stats is what the backend has served and holds.
type Stats struct {
	// Endpoints maps endpoint name → HTTP status code ("200") → responses
	// served. Only non-zero entries appear.
	Endpoints map[string]map[string]int64 `json:"endpoints"`
	// Sessions maps session status → sessions in it, evaluated when Stats
	// is read. Only non-zero entries appear.
	Sessions map[string]int64 `json:"sessions"`
	// TokensMinted counts JWTs signed by sign-in and the token endpoint.
	TokensMinted int64 `json:"tokens_minted"`
	// Admission is what admission control holds and has shed (see
	// Config.MaxInflight). Shed requests are also counted in Endpoints,
	// as status 503.
	Admission AdmissionStats `json:"admission"`
	// TLS counts the TLS handshakes served, when the backend listens with
	// TLS (ListenTLS); nil otherwise.
	TLS *TLSStats `json:"tls,omitempty"`
}

// responseCounters counts responses per endpoint and status code without locks.
type responseCounters struct {
	n [numEndpoints][maxStatusCode + 1]atomic.Int64
}

// add counts one response.
func (c *responseCounters) add(ep endpoint, status int) {
	if status < 0 || status > maxStatusCode {
		status = 0
	}
	c.n[ep][status].Add(1)
}

// each calls fn for every non-zero counter, by endpoint then status code.
func (c *responseCounters) each(fn func(ep endpoint, status int, n int64)) {
	for ep := range numEndpoints {
		for status := range c.n[ep] {
			if n := c.n[ep][status].Load(); n != 0 {
				fn(ep, status, n)
			}
		}
	}
}

// snapshot returns the non-zero counters by endpoint name and status code.
func (c *responseCounters) snapshot() map[string]map[string]int64 {
	out := make(map[string]map[string]int64)
	c.each(func(ep endpoint, status int, n int64) {
		name := endpointNames[ep]
		if out[name] == nil {
			out[name] = make(map[string]int64)
		}
		out[name][strconv.Itoa(status)] = n
	})
	return out
}

// countingWriter counts the response under its endpoint when the status
// code is committed, that is before any byte of it reaches the client.
type countingWriter struct {
	http.ResponseWriter
	counters *responseCounters
	ep       endpoint
	counted  bool
}

// WriteHeader counts the response and forwards the status code.
func (w *countingWriter) WriteHeader(status int) {
	if !w.counted && status >= 200 {
		w.counted = true
		w.counters.add(w.ep, status)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write commits status 200 if no status was written, then forwards p.
func (w *countingWriter) Write(p []byte) (int, error) {
	if !w.counted {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// finish counts a response whose handler wrote nothing (net/http sends 200).
func (w *countingWriter) finish() {
	if !w.counted {
		w.WriteHeader(http.StatusOK)
	}
}

// Unwrap returns the underlying ResponseWriter for http.ResponseController.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Stats returns the responses served so far, the sessions by status at
// Config().Now() and the tokens minted. A request's response is counted when
// its status is written, so Stats read through /admin/stats does not include
// that stats request itself.
func (b *Backend) Stats() Stats {
	return Stats{
		Endpoints:    b.counters.snapshot(),
		Sessions:     b.sessions.counts(b.cfg.Now()),
		TokensMinted: b.tokensMinted.Load(),
		Admission:    b.admission.stats(),
		TLS:          b.tls.stats(),
	}
}

// handleStats serves Stats as JSON.
func (b *Backend) handleStats(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, b.Stats())
}
