package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// The hostile-target tests run a small fleet through the live engine over
// loopback against targets that misbehave, and hold the run to its
// contract: every answer lands in the expected class (and code), within the
// request timeout, reading at most 1 MiB of any body, and the run finishes
// with every request it sent settled.

const (
	hostileClients  = 8
	hostileDuration = 1500 * time.Millisecond
	hostileTimeout  = 2 * time.Second // sdk.request_timeout, wall-clock
)

// answerKey is one kind of answer the clients got.
type answerKey struct {
	kind  model.EventKind
	class model.ErrorClass
	code  string
}

// hostileRun is what a fleet run against a hostile target saw.
type hostileRun struct {
	res     reports.Result
	took    time.Duration
	MaxBody int64 // the most bytes read from one response body

	mu      sync.Mutex
	answers map[answerKey]int
	sent    map[model.ActionKind]int
}

// count is how many answers of kind matched class (and code, if not "").
func (h *hostileRun) count(kind model.EventKind, class model.ErrorClass, code string) int {
	n := 0
	for k, v := range h.answers {
		if k.kind == kind && k.class == class && (code == "" || k.code == code) {
			n += v
		}
	}
	return n
}

// total is how many answers of kind came.
func (h *hostileRun) total(kind model.EventKind) int {
	n := 0
	for k, v := range h.answers {
		if k.kind == kind {
			n += v
		}
	}
	return n
}

// onlyClass fails the test unless every answer of kind is of class (and
// code, if not ""), and at least one came.
func (h *hostileRun) onlyClass(t *testing.T, kind model.EventKind, class model.ErrorClass, code string) {
	t.Helper()
	if n := h.count(kind, class, code); n == 0 || n != h.total(kind) {
		t.Errorf("%s answers: %v; want all %d of class %s code %q", kindName(kind), h.answers, h.total(kind), class, code)
	}
}

func kindName(k model.EventKind) string {
	switch k {
	case model.EvSignInDone:
		return "sign-in"
	case model.EvRefreshDone:
		return "refresh"
	case model.EvAPIDone:
		return "api"
	}
	return fmt.Sprint(k)
}

// perBodyTransport records the most bytes read from any one response body
// (since max was last reset).
type perBodyTransport struct {
	base http.RoundTripper
	max  atomic.Int64
}

func (p *perBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.base.RoundTrip(r)
	if err == nil {
		resp.Body = &perBody{ReadCloser: resp.Body, t: p}
	}
	return resp, err
}

type perBody struct {
	io.ReadCloser
	t *perBodyTransport
	n int64
}

func (b *perBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	for {
		m := b.t.max.Load()
		if b.n <= m || b.t.max.CompareAndSwap(m, b.n) {
			break
		}
	}
	return n, err
}

// runHostile runs the fleet against base and checks the invariants every
// hostile target must leave intact. onAnswer, if set, sees every answer.
func runHostile(t *testing.T, base string, onAnswer func(model.Event)) *hostileRun {
	t.Helper()
	p := testProfile(hostileClients, hostileDuration)
	p.Ramp = profiles.Duration(300 * time.Millisecond)
	p.SDK.RequestTimeout = profiles.Duration(hostileTimeout)
	// The run's own HTTP path: a pool of senders, each on its own
	// connection (SenderTransport), as stampede run makes requests.
	tr := &perBodyTransport{base: &transport.SenderTransport{Fallback: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}
	hc := &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	fapi := &target.FAPI{Base: base, Client: hc}
	h := &hostileRun{answers: map[answerKey]int{}, sent: map[model.ActionKind]int{}}
	eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, MaxInFlight: 32,
		Observe: func(_ int, _ time.Time, a model.Action) {
			if a.Kind == model.ActSignIn || a.Kind == model.ActRefresh || a.Kind == model.ActAPI {
				h.mu.Lock()
				h.sent[a.Kind]++
				h.mu.Unlock()
			}
		},
		ObserveEvent: func(_ int, _ time.Time, ev model.Event) {
			if ev.Kind != model.EvSignInDone && ev.Kind != model.EvRefreshDone && ev.Kind != model.EvAPIDone {
				return
			}
			h.mu.Lock()
			h.answers[answerKey{ev.Kind, ev.Outcome.Class, ev.Outcome.Code}]++
			h.mu.Unlock()
			if onAnswer != nil {
				onAnswer(ev)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := eng.Run(context.Background(), &h.res); err != nil {
		t.Fatal(err)
	}
	h.took = time.Since(start)
	h.MaxBody = tr.max.Load()

	// Bounded in time: the run ends, its stragglers cut at the request timeout.
	if limit := hostileDuration + hostileTimeout + 3*time.Second; h.took > limit {
		t.Errorf("the run took %s, want ≤ %s", h.took, limit)
	}
	for name, o := range h.res.Ops {
		if o.ServiceMs != nil && o.ServiceMs.Max > float64((hostileTimeout+time.Second).Milliseconds()) {
			t.Errorf("ops.%s: a request took %.0f ms, past the %s timeout", name, o.ServiceMs.Max, hostileTimeout)
		}
	}
	// Bounded in memory: no body read past 1 MiB and the 4 KiB drain.
	if h.MaxBody > transport.MaxBody+4096 {
		t.Errorf("read %d bytes of one body, want ≤ %d", h.MaxBody, transport.MaxBody+4096)
	}
	// Every request sent was answered, as ok or in an error class.
	for kind, op := range map[model.ActionKind]string{model.ActSignIn: reports.OpSignIn, model.ActRefresh: reports.OpRefresh, model.ActAPI: reports.OpAPI} {
		var answered int64
		if o := h.res.Ops[op]; o != nil {
			answered = o.Count
		}
		if int64(h.sent[kind]) != answered {
			t.Errorf("ops.%s: sent %d, answered %d", op, h.sent[kind], answered)
		}
	}
	if h.sent[model.ActSignIn] == 0 {
		t.Error("no client signed in")
	}
	checkBooks(t, &h.res)
	t.Logf("sent %v in %s; answers %v; largest body read %d bytes", h.sent, h.took.Round(time.Millisecond), h.answers, h.MaxBody)
	return h
}

// rawTarget serves every connection to a loopback listener with serve, in
// its own goroutine; the test's cleanup stops them and waits for them.
func rawTarget(t *testing.T, serve func(c net.Conn, br *bufio.Reader, quit <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c), quit)
			})
		}
	})
	t.Cleanup(func() {
		close(quit)
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// readRequest reads one request off a raw connection, body included.
func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

// trickle writes s one byte every 20 ms until quit or a write fails (the
// client hung up).
func trickle(c net.Conn, s string, quit <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i = (i + 1) % len(s) {
		select {
		case <-quit:
			return
		case <-tick.C:
		}
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
	}
}

// fakeFAPI is a target speaking the session API with the tokens mint gives.
func fakeFAPI(t *testing.T, mint func(now time.Time) string) (base string, apiCalls *atomic.Int64) {
	t.Helper()
	apiCalls = new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/client/sign_ins", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"client_token": "ct_1", "session": map[string]string{"id": "sess_1"},
			"jwt": mint(time.Now())})
	})
	mux.HandleFunc("POST /v1/client/sessions/{sid}/tokens", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"jwt": mint(time.Now())})
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, _ *http.Request) {
		apiCalls.Add(1)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, apiCalls
}

// hostileJWT builds a JWT with the given header and claims, signature junk.
func hostileJWT(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestHostileTargetsThroughTheEngine(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"connection reset", func(t *testing.T) {
			base := rawTarget(t, func(c net.Conn, br *bufio.Reader, _ <-chan struct{}) {
				if readRequest(br) {
					_ = c.(*net.TCPConn).SetLinger(0) // close with RST
				}
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassNetwork, "")
		}},
		{"slowloris headers", func(t *testing.T) {
			base := rawTarget(t, func(c net.Conn, br *bufio.Reader, quit <-chan struct{}) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
					trickle(c, "X-Slow: a\r\n", quit)
				}
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassTimeout, "")
		}},
		{"slowloris body", func(t *testing.T) {
			base := rawTarget(t, func(c net.Conn, br *bufio.Reader, quit <-chan struct{}) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
					trickle(c, `{"jwt":"`, quit)
				}
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassTimeout, "")
		}},
		{"endless body", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("x"), 32<<10)
				_, _ = io.WriteString(w, `{"jwt":"`)
				for sent := 0; sent < 256<<20 && r.Context().Err() == nil; sent += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			h := runHostile(t, srv.URL, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOther, target.CodeInvalidJSON)
			if h.MaxBody < transport.MaxBody {
				t.Errorf("read at most %d bytes of the endless body, want the 1 MiB bound reached", h.MaxBody)
			}
		}},
		{"invalid JSON", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{"client_token":"ct_1","session":{"id":"sess_1"},"jwt":`)
			}))
			t.Cleanup(srv.Close)
			h := runHostile(t, srv.URL, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOther, target.CodeInvalidJSON)
		}},
		{"alg none", func(t *testing.T) {
			base, api := fakeFAPI(t, func(now time.Time) string {
				return hostileJWT(`{"alg":"none","typ":"JWT"}`, fmt.Sprintf(`{"iat":%d,"exp":%d}`, now.Unix(), now.Add(time.Hour).Unix()))
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOther, model.CodeTokenAlgNone)
			if n := api.Load(); n != 0 {
				t.Errorf("%d API calls reached the target with an unsigned token", n)
			}
		}},
		{"exp in the past", func(t *testing.T) {
			base, api := fakeFAPI(t, func(now time.Time) string {
				return hostileJWT(`{"alg":"ES256"}`, fmt.Sprintf(`{"iat":%d,"exp":%d}`, now.Unix(), now.Add(-time.Hour).Unix()))
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOther, model.CodeTokenExpired)
			if n := api.Load(); n != 0 {
				t.Errorf("%d API calls reached the target with an expired token", n)
			}
		}},
		{"exp beyond year 9999", func(t *testing.T) {
			base, api := fakeFAPI(t, func(now time.Time) string {
				return hostileJWT(`{"alg":"ES256"}`, fmt.Sprintf(`{"iat":%d,"exp":1e18}`, now.Unix()))
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOther, model.CodeTokenTimeRange)
			if n := api.Load(); n != 0 {
				t.Errorf("%d API calls reached the target with an out-of-range token", n)
			}
		}},
		{"exp far in the future", func(t *testing.T) {
			// Year 9000: a token a client can hold, which never needs a
			// refresh before the run ends.
			base, api := fakeFAPI(t, func(now time.Time) string {
				return hostileJWT(`{"alg":"ES256"}`, fmt.Sprintf(`{"iat":%d,"exp":222000000000}`, now.Unix()))
			})
			h := runHostile(t, base, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOK, "")
			if h.sent[model.ActRefresh] != 0 {
				t.Errorf("%d refreshes of a token valid until year 9000", h.sent[model.ActRefresh])
			}
			if api.Load() == 0 || h.count(model.EvAPIDone, model.ClassOK, "") != h.total(model.EvAPIDone) {
				t.Errorf("API answers %v (%d served): want every one ok", h.answers, api.Load())
			}
		}},
		{"bad signature", func(t *testing.T) {
			// The embedded backend, with every token it issues tampered
			// with: the client cannot tell (it does not verify), the
			// target rejects it on use.
			p := testProfile(hostileClients, hostileDuration)
			be := newBackend(t, p)
			srv := httptest.NewServer(tamperSignatures(be))
			t.Cleanup(srv.Close)
			h := runHostile(t, srv.URL, nil)
			h.onlyClass(t, model.EvSignInDone, model.ClassOK, "")
			h.onlyClass(t, model.EvAPIDone, model.Class401, "")
			if st := be.Stats(); st.Endpoints[backend.EndpointAPI]["401"] == 0 {
				t.Errorf("the backend rejected no API call: %v", st.Endpoints[backend.EndpointAPI])
			}
			if h.res.Requests.OK != 0 || h.res.Requests.UserVisibleErrors == 0 {
				t.Errorf("requests %+v: want every API call a user-visible error", h.res.Requests)
			}
		}},
		{"connection refused mid-run, then back", func(t *testing.T) {
			testRefusedThenBack(t)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// tamperSignatures serves h, changing the signature of every jwt in its
// JSON answers.
func tamperSignatures(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			if jwt, ok := doc["jwt"].(string); ok {
				if i := strings.LastIndexByte(jwt, '.'); i >= 0 && i+1 < len(jwt) {
					sig := []byte(jwt[i+1:])
					sig[0] ^= 'A' ^ 'B' // another base64url character: another signature
					doc["jwt"] = jwt[:i+1] + string(sig)
					body, _ = json.Marshal(doc)
				}
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// testRefusedThenBack serves the embedded backend on a listener that is
// closed once the fleet is busy (connections refused) and reopened on the
// same port once the clients have seen refusals: the refusals are network
// errors, the run goes on and the clients recover.
func testRefusedThenBack(t *testing.T) {
	p := testProfile(hostileClients, hostileDuration)
	be := newBackend(t, p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var served atomic.Int64
	down, up := make(chan struct{}), make(chan struct{})
	var downOnce, upOnce sync.Once
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 12 { // every client signed in, and some more: go down
			downOnce.Do(func() { close(down) })
		}
		be.ServeHTTP(w, r)
	})
	first := &http.Server{Handler: handler}
	second := make(chan *http.Server, 1) // the reopened server, nil if none
	var reopened atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { _ = first.Serve(ln) })
	wg.Go(func() {
		<-down
		_ = first.Close() // the listener and every connection: refused from now on
		<-up
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("reopening %s: %v", addr, err)
			second <- nil
			return
		}
		srv := &http.Server{Handler: handler}
		reopened.Store(true)
		second <- srv
		_ = srv.Serve(ln2)
	})
	var refused, okAfter atomic.Int64
	h := runHostile(t, "http://"+addr, func(ev model.Event) {
		switch {
		case ev.Outcome.Class == model.ClassNetwork:
			if refused.Add(1) == 5 { // the clients saw it: come back
				upOnce.Do(func() { close(up) })
			}
		case ev.Outcome.Class == model.ClassOK && reopened.Load():
			okAfter.Add(1)
		}
	})
	downOnce.Do(func() { close(down) })
	upOnce.Do(func() { close(up) })
	if srv := <-second; srv != nil {
		_ = srv.Close()
	}
	wg.Wait()

	if refused.Load() < 5 {
		t.Errorf("%d network errors while the listener was closed, want ≥ 5", refused.Load())
	}
	if okAfter.Load() == 0 {
		t.Errorf("no request succeeded after the listener came back: %v", h.answers)
	}
	for k := range h.answers {
		// A token of 1 s can run out between the client's check and the
		// server's when the refreshes failed and the machine is slow: an
		// API call answered 401 token_expired is the target being right.
		expiredInFlight := k == answerKey{kind: model.EvAPIDone, class: model.Class401, code: "token_expired"}
		if k.class != model.ClassOK && k.class != model.ClassNetwork && !expiredInFlight {
			t.Errorf("answers %v: only ok, network and API calls whose token expired in flight expected", h.answers)
			break
		}
	}
}
