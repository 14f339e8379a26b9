// Package backend is stampede's embedded reference backend: an in-memory
// session-token service in the style of Clerk's Frontend API. Clients sign
// in, mint short-lived session JWTs with their client token and call a
// protected API that verifies those JWTs locally. Admin endpoints rotate keys
// and revoke sessions, and the backend counts every response it serves so
// that load-test results can be checked against it.
//
// Fleet-wide chaos events act on it at run time, from Go or over the admin
// API: injected faults (token-endpoint brownout with latency, 429 and 503,
// spurious API 401s, server clock skew; see Faults) and client-token rotation
// with reuse detection and a grace period (see Rotation).
//
// Admin API (every action also has a Go method):
//
//	POST   /admin/keys/rotate          {"keep_previous":bool}? → {"kid":"..."}      RotateKeys, KeyID
//	POST   /admin/sessions/{sid}/revoke                      → session object       Revoke
//	POST   /admin/sessions/{sid}/remove                      → session object       Remove
//	POST   /admin/sessions/{sid}/pending  {"task":"setup-mfa"} → session object   SetPending
//	POST   /admin/sessions/{sid}/complete_task               → session object       CompleteTask
//	POST   /admin/revoke               {"fraction":0..1}     → {"revoked":n}        RevokeFraction
//	GET    /admin/stats                                      → Stats                Stats
//	GET    /admin/faults                                     → Faults               Faults
//	PUT    /admin/faults               Faults                → Faults               SetFaults
//	DELETE /admin/faults                                     → Faults (zero)        ClearFaults
//	GET    /admin/rotation                                   → Rotation             Rotation
//	PUT    /admin/rotation             Rotation              → Rotation             SetRotation
//
// PUT bodies replace the settings whole (missing fields are zero) and are
// decoded strictly: an unknown field, a wrong type or a value out of range
// is answered 400 code "invalid_request" with a message naming the JSON
// field, and the settings stay as they were.
package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config defaults.
const (
	DefaultTokenLifetime = 60 * time.Second
	DefaultMaxLifetime   = 7 * 24 * time.Hour
	DefaultSigning       = SigningRS256
	DefaultIssuer        = "stampede-backend"
	DefaultMaxBodyBytes  = 64 << 10
)

// Config configures a Backend. Zero fields take their defaults.
type Config struct {
	// TokenLifetime is the lifetime of a session JWT; default 60s, at least 1ms.
	TokenLifetime time.Duration
	// MaxLifetime is how long a session lasts before it is expired; default 7 days.
	MaxLifetime time.Duration
	// InactivityTimeout is how long a session may go without a token mint
	// or touch before it is abandoned; 0 (the default) turns it off.
	InactivityTimeout time.Duration
	// Signing is the JWT algorithm: "RS256" (default, 2048-bit), "ES256" or "EdDSA".
	Signing string
	// Issuer is the iss claim of session JWTs; default "stampede-backend".
	Issuer string
	// MaxBodyBytes bounds request bodies; default 64 KiB.
	MaxBodyBytes int64
	// Now is the clock; default time.Now. Faults.ClockOffset shifts it for
	// JWTs only.
	Now func() time.Time
	// Seed seeds the draws of the injected fault rates (see Faults): the
	// same seed and request order give the same faults. Every value,
	// 0 included, is a fixed seed.
	Seed uint64
	// Rotation is the initial client-token rotation setting (default off);
	// SetRotation changes it at run time.
	Rotation Rotation
	// AdminToken, if set, is required as "Authorization: Bearer <token>" by
	// the admin endpoints (/admin/*) and /metrics, which otherwise answer
	// 401 code "admin_token_invalid". Empty (the default) leaves them open,
	// for a backend on loopback.
	AdminToken string
	// MaxInflight bounds the client requests (every route but /admin/* and
	// /metrics) handled at once; default 4 × GOMAXPROCS. A request that
	// finds every slot taken waits in a queue of at most MaxQueue requests
	// (default 1024) for at most QueueWait (default 2s); one that finds the
	// queue full, or waits in vain, is answered 503 code "overloaded" with
	// Retry-After (QueueWait in whole seconds, at least 1) and has changed
	// nothing. Request bodies are read, and injected token faults applied,
	// before a request takes a slot.
	MaxInflight int
	// MaxQueue bounds the requests waiting for a slot; see MaxInflight.
	MaxQueue int
	// QueueWait bounds how long a request waits for a slot; see MaxInflight.
	QueueWait time.Duration
	// ServiceTime is how long each admitted client request holds its slot
	// before it is handled: a stand-in for the database work behind a real
	// token endpoint, which makes the backend's capacity MaxInflight /
	// ServiceTime requests a second whatever the machine. 0 is none.
	ServiceTime time.Duration
}

// withDefaults returns c with zero fields set to their defaults, or an error
// naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.TokenLifetime < 0:
		return c, fmt.Errorf("backend: Config.TokenLifetime must not be negative, got %v", c.TokenLifetime)
	case c.TokenLifetime > 0 && c.TokenLifetime < time.Millisecond:
		return c, fmt.Errorf("backend: Config.TokenLifetime must be at least 1ms, got %v", c.TokenLifetime)
	case c.MaxLifetime < 0:
		return c, fmt.Errorf("backend: Config.MaxLifetime must not be negative, got %v", c.MaxLifetime)
	case c.InactivityTimeout < 0:
		return c, fmt.Errorf("backend: Config.InactivityTimeout must not be negative, got %v", c.InactivityTimeout)
	case c.MaxBodyBytes < 0:
		return c, fmt.Errorf("backend: Config.MaxBodyBytes must not be negative, got %d", c.MaxBodyBytes)
	case c.Rotation.Grace < 0:
		return c, fmt.Errorf("backend: Config.Rotation.Grace must not be negative, got %v", c.Rotation.Grace)
	case c.MaxInflight < 0:
		return c, fmt.Errorf("backend: Config.MaxInflight must not be negative, got %d", c.MaxInflight)
	case c.MaxQueue < 0:
		return c, fmt.Errorf("backend: Config.MaxQueue must not be negative, got %d", c.MaxQueue)
	case c.QueueWait < 0:
		return c, fmt.Errorf("backend: Config.QueueWait must not be negative, got %v", c.QueueWait)
	}
	if c.TokenLifetime == 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	switch strings.ToUpper(c.Signing) {
	case "":
		c.Signing = DefaultSigning
	case strings.ToUpper(SigningRS256):
		c.Signing = SigningRS256
	case strings.ToUpper(SigningES256):
		c.Signing = SigningES256
	case strings.ToUpper(SigningEdDSA):
		c.Signing = SigningEdDSA
	default:
		return c, fmt.Errorf("backend: Config.Signing must be %s, %s or %s, got %q", SigningRS256, SigningES256, SigningEdDSA, c.Signing)
	}
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultInflightPerCPU * runtime.GOMAXPROCS(0)
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.QueueWait == 0 {
		c.QueueWait = DefaultQueueWait
	}
	return c, nil
}

// Backend is the reference backend. It is an http.Handler and safe for
// concurrent use.
type Backend struct {
	cfg          Config
	keys         *keyring
	tokens       *tokenIssuer
	sessions     *sessionStore
	counters     *responseCounters
	tokensMinted atomic.Int64
	tls          tlsCounters // handshakes served by ListenTLS
	faults       atomic.Pointer[Faults]
	rotation     atomic.Pointer[Rotation]
	tokenDice    *faultDice // token-endpoint 429/503 draws
	apiDice      *faultDice // spurious-401 draws
	admission    *admission
	metrics      http.Handler
}

// New returns a Backend for cfg with defaults filled in and its first
// signing key generated.
func New(cfg Config) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(cfg.Signing)
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	b := &Backend{
		cfg:       cfg,
		keys:      keys,
		sessions:  newSessionStore(cfg.MaxLifetime, cfg.InactivityTimeout),
		counters:  &responseCounters{},
		tokenDice: newFaultDice(cfg.Seed, streamToken),
		apiDice:   newFaultDice(cfg.Seed, streamAPI),
		admission: newAdmission(cfg.MaxInflight, cfg.MaxQueue, cfg.QueueWait),
	}
	b.tokens = newTokenIssuer(keys, cfg.Issuer, cfg.TokenLifetime, b.jwtNow)
	b.metrics = newMetricsHandler(b)
	b.faults.Store(&Faults{})
	rotation := cfg.Rotation
	b.rotation.Store(&rotation)
	return b, nil
}

// Config returns the effective configuration, defaults filled in. Its
// Rotation is the initial setting; see Rotation for the current one.
func (b *Backend) Config() Config {
	return b.cfg
}

// handlerFunc handles a routed request; sid is the session id from the path,
// if the route has one.
type handlerFunc func(b *Backend, w http.ResponseWriter, r *http.Request, sid string)

// route is the result of matching a request path.
type route struct {
	ep      endpoint
	allow   string // methods, as in the Allow header
	handler handlerFunc
	sid     string
}

// Allowed method sets.
const (
	allowPost = "POST"
	allowGet  = "GET, HEAD"
	allowAPI  = "GET, HEAD, POST, PUT, DELETE, PATCH"
	// Settings resources.
	allowFaults   = "GET, HEAD, PUT, DELETE"
	allowRotation = "GET, HEAD, PUT"
)

// match returns the route for path, or a route without handler.
func match(path string) route {
	switch path {
	case "/v1/client/sign_ins":
		return route{ep: epSignIn, allow: allowPost, handler: (*Backend).handleSignIn}
	case "/.well-known/jwks.json":
		return route{ep: epJWKS, allow: allowGet, handler: (*Backend).handleJWKS}
	case "/metrics":
		return route{ep: epMetrics, allow: allowGet, handler: (*Backend).handleMetrics}
	case "/admin/keys/rotate":
		return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handleRotate}
	case "/admin/revoke":
		return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handleRevokeFraction}
	case "/admin/stats":
		return route{ep: epAdmin, allow: allowGet, handler: (*Backend).handleStats}
	case "/admin/faults":
		return route{ep: epAdmin, allow: allowFaults, handler: (*Backend).handleFaults}
	case "/admin/rotation":
		return route{ep: epAdmin, allow: allowRotation, handler: (*Backend).handleRotation}
	}
	if rest, ok := strings.CutPrefix(path, "/v1/client/sessions/"); ok {
		sid, action, ok := strings.Cut(rest, "/")
		if ok && sid != "" {
			switch action {
			case "tokens":
				return route{ep: epToken, allow: allowPost, handler: (*Backend).handleToken, sid: sid}
			case "touch":
				return route{ep: epTouch, allow: allowPost, handler: (*Backend).handleTouch, sid: sid}
			case "end":
				return route{ep: epEnd, allow: allowPost, handler: (*Backend).handleEnd, sid: sid}
			}
		}
	}
	if rest, ok := strings.CutPrefix(path, "/admin/sessions/"); ok {
		sid, action, ok := strings.Cut(rest, "/")
		if ok && sid != "" {
			switch action {
			case "revoke":
				return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handleRevoke, sid: sid}
			case "remove":
				return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handleRemove, sid: sid}
			case "pending":
				return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handlePending, sid: sid}
			case "complete_task":
				return route{ep: epAdmin, allow: allowPost, handler: (*Backend).handleCompleteTask, sid: sid}
			}
		}
	}
	if strings.HasPrefix(path, "/api/") {
		return route{ep: epAPI, allow: allowAPI, handler: (*Backend).handleAPI}
	}
	return route{ep: epOther}
}

// allows reports whether the Allow list contains method.
func allows(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

// ServeHTTP routes the request, enforces method and body size, and counts
// the response under its endpoint name and status code.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := match(r.URL.Path)
	cw := &countingWriter{ResponseWriter: w, counters: b.counters, ep: rt.ep}
	switch {
	case rt.handler == nil:
		writeError(cw, http.StatusNotFound, CodeNotFound, "no route for "+r.URL.Path)
	case b.needsAdmin(rt.ep) && !b.adminAuthorized(r):
		writeAdminUnauthorized(cw)
	case !allows(rt.allow, r.Method):
		cw.Header().Set("Allow", rt.allow)
		writeError(cw, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rt.allow))
	case r.ContentLength > b.cfg.MaxBodyBytes:
		writeTooLarge(cw, b.cfg.MaxBodyBytes)
	default:
		// The original writer lets net/http close the connection after an
		// oversized body.
		r.Body = http.MaxBytesReader(w, r.Body, b.cfg.MaxBodyBytes)
		if rt.ep == epAdmin || rt.ep == epMetrics {
			// Never shed: an operator must see stats under overload.
			rt.handler(b, cw, r, rt.sid)
		} else {
			b.serveClient(cw, r, rt)
		}
	}
	// Not deferred: a panicking handler must not turn into a counted 200.
	cw.finish()
}

// serveClient handles a client request: it reads the body, applies the
// injected token faults, then runs the handler under admission control, so
// that neither a slow body nor an injected wait holds a slot. A shed request
// reaches no handler and changes nothing.
func (b *Backend) serveClient(w http.ResponseWriter, r *http.Request, rt route) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if rt.ep == epToken && b.injectTokenFaults(w, r) {
		return
	}
	switch res := b.admission.admit(r.Context()); res {
	case admitted:
		defer b.admission.release()
		if b.cfg.ServiceTime > 0 && !b.serve(r.Context()) {
			writeError(w, StatusClientClosedRequest, CodeClientClosedRequest,
				"request ended while it was served: "+context.Cause(r.Context()).Error())
			return
		}
		rt.handler(b, w, r, rt.sid)
	case admitAborted:
		writeError(w, StatusClientClosedRequest, CodeClientClosedRequest,
			"request ended while it waited for a slot: "+context.Cause(r.Context()).Error())
	default:
		b.admission.writeOverloaded(w, res)
	}
}

// serve holds an admitted request's slot for Config.ServiceTime; false
// when ctx ended first.
func (b *Backend) serve(ctx context.Context) bool {
	t := time.NewTimer(b.cfg.ServiceTime)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeTooLarge writes the 413 response for a body over limit bytes.
func writeTooLarge(w http.ResponseWriter, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
		"request body exceeds "+strconv.FormatInt(limit, 10)+" bytes")
}

// readBody reads the request body through the size limit. On failure it
// writes the error response and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength == 0 {
		return nil, true // nothing to read, as for most token requests
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeTooLarge(w, tooLarge.Limit)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "read request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// readJSON decodes an optional JSON body into v; an empty body leaves v
// unchanged. On failure it writes the error response and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "malformed JSON body: "+err.Error())
		return false
	}
	return true
}

// bearerToken returns the credentials of an "Authorization: Bearer" header,
// or "" if there are none.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}
