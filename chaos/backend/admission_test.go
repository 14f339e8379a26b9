package backend

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// gatedTrace holds every admitted request at its slot until open is
// called, and reports entries and queued requests on channels with room
// for n of each.
type gatedTrace struct {
	gate     chan struct{}
	openOnce sync.Once
	entered  chan struct{}
	queued   chan struct{}
}

// newGatedTrace installs a gatedTrace on b. Call it before b serves.
func newGatedTrace(b *Backend, n int) *gatedTrace {
	g := &gatedTrace{gate: make(chan struct{}), entered: make(chan struct{}, n), queued: make(chan struct{}, n)}
	b.admission.trace = &admissionTrace{
		enter: func() {
			g.entered <- struct{}{}
			<-g.gate
		},
		queued: func() { g.queued <- struct{}{} },
	}
	return g
}

// open lets held and future requests run.
func (g *gatedTrace) open() { g.openOnce.Do(func() { close(g.gate) }) }

// await receives n signals from ch.
func await(ch <-chan struct{}, n int) {
	for range n {
		<-ch
	}
}

// expectOverloaded asserts a 503 "overloaded" answer with Retry-After.
func expectOverloaded(t testing.TB, rec *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	expectError(t, rec, http.StatusServiceUnavailable, CodeOverloaded)
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After = %q, want %q", got, retryAfter)
	}
}

func TestOverloadedRequestIsShedWithRetryAfterAndChangesNothing(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: 2, MaxQueue: 4, QueueWait: time.Minute,
		Rotation: Rotation{Enabled: true}})
	sessions := make([]signInResponse, 7)
	for i := range sessions {
		sessions[i] = signIn(t, b)
	}
	g := newGatedTrace(b, 16)
	defer g.open()

	// Two refreshes hold the slots, four wait in the queue.
	recs := make([]*httptest.ResponseRecorder, 6)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/client/sessions/"+sessions[i].Session.ID+"/tokens", nil)
		req.Header.Set("Authorization", "Bearer "+sessions[i].ClientToken)
		wg.Go(func() { b.ServeHTTP(recs[i], req) })
		if i < 2 {
			await(g.entered, 1)
		} else {
			await(g.queued, 1)
		}
	}

	// Everything else a client sends is shed at once, before it changes
	// anything: no rotation, no touch, no sign-out, no new session.
	last := sessions[6]
	jwt := last.JWT
	shed := []*httptest.ResponseRecorder{
		mintToken(t, b, last),
		do(t, b, http.MethodPost, "/v1/client/sessions/"+last.Session.ID+"/touch", last.ClientToken, ""),
		do(t, b, http.MethodPost, "/v1/client/sessions/"+last.Session.ID+"/end", last.ClientToken, ""),
		do(t, b, http.MethodPost, "/v1/client/sign_ins", "", `{"identifier":"new@example.com"}`),
		callAPI(t, b, jwt),
		do(t, b, http.MethodGet, "/.well-known/jwks.json", "", ""),
	}
	for _, rec := range shed {
		expectOverloaded(t, rec, "60")
	}

	// An operator still sees the backend's state.
	rec := do(t, b, http.MethodGet, "/admin/stats", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("/admin/stats under overload: status %d", rec.Code)
	}
	st := decode[Stats](t, rec).Admission
	want := AdmissionStats{MaxInflight: 2, MaxQueue: 4, Inflight: 2, Queued: 4, InflightPeak: 2, QueuedPeak: 4, ShedQueueFull: 6}
	if st != want {
		t.Errorf("admission under overload = %+v, want %+v", st, want)
	}
	rec = do(t, b, http.MethodGet, "/metrics", "", "")
	for _, line := range []string{
		`stampede_backend_shed_total{reason="queue_full"} 6`,
		`stampede_backend_shed_total{reason="queue_wait"} 0`,
		"stampede_backend_inflight 2",
		"stampede_backend_queued 4",
		"stampede_backend_max_inflight 2",
		"stampede_backend_max_queue 4",
		`stampede_backend_responses_total{code="503",endpoint="token"} 1`,
	} {
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("/metrics under overload (status %d) lacks %q:\n%s", rec.Code, line, rec.Body)
		}
	}

	g.open()
	wg.Wait()
	for i, rec := range recs {
		if rec.Code != http.StatusOK {
			t.Fatalf("held refresh %d: status %d, body %s", i, rec.Code, rec.Body)
		}
		if tr := decode[tokenResponse](t, rec); tr.ClientToken == "" || tr.ClientToken == sessions[i].ClientToken {
			t.Errorf("held refresh %d did not rotate the client token", i)
		}
	}
	// The shed refresh, touch and end left the last session as it was: its
	// client token is still the current one.
	rec = mintToken(t, b, last)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh after a shed refresh: status %d, body %s", rec.Code, rec.Body)
	}
	got := b.Stats()
	if want := map[string]int64{SessionActive: 7}; !maps.Equal(got.Sessions, want) {
		t.Errorf("sessions = %v, want %v (a shed sign-in creates none, a shed end ends none)", got.Sessions, want)
	}
	if got.TokensMinted != 7+6+1 {
		t.Errorf("TokensMinted = %d, want 14", got.TokensMinted)
	}
	if got.Admission.Inflight != 0 || got.Admission.Queued != 0 {
		t.Errorf("after the overload: %d in flight, %d queued", got.Admission.Inflight, got.Admission.Queued)
	}
	if want := map[string]int64{"200": 7, "503": 1}; !maps.Equal(got.Endpoints[EndpointToken], want) {
		t.Errorf(`Endpoints["token"] = %v, want %v`, got.Endpoints[EndpointToken], want)
	}
}

func TestQueuedRequestIsShedAfterQueueWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: 1, MaxQueue: 1, QueueWait: 1500 * time.Millisecond})
		g := newGatedTrace(b, 4)
		defer g.open()
		held := make(chan *httptest.ResponseRecorder)
		go func() { held <- do(t, b, http.MethodPost, "/v1/client/sign_ins", "", "") }()
		await(g.entered, 1)

		start := time.Now()
		rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", "")
		if waited := time.Since(start); waited != 1500*time.Millisecond {
			t.Errorf("shed after %v in the queue, want 1.5s", waited)
		}
		expectOverloaded(t, rec, "2")
		if st := b.Stats().Admission; st.ShedQueueWait != 1 || st.ShedQueueFull != 0 || st.Queued != 0 {
			t.Errorf("admission = %+v, want one shed after its wait and an empty queue", st)
		}
		g.open()
		if rec := <-held; rec.Code != http.StatusOK {
			t.Errorf("held sign-in: status %d", rec.Code)
		}
		if got := b.Stats().Sessions; !maps.Equal(got, map[string]int64{SessionActive: 1}) {
			t.Errorf("sessions = %v, want the held sign-in's only", got)
		}
	})
}

func TestQueuedRequestWhoseClientLeavesIsAnswered499(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: 1, MaxQueue: 1, QueueWait: time.Minute})
	si := signIn(t, b)
	g := newGatedTrace(b, 4)
	defer g.open()
	held := make(chan *httptest.ResponseRecorder)
	go func() { held <- do(t, b, http.MethodPost, "/v1/client/sign_ins", "", "") }()
	await(g.entered, 1)

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+si.ClientToken)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.ServeHTTP(rec, req)
	}()
	await(g.queued, 1)
	cancel()
	<-done
	expectError(t, rec, StatusClientClosedRequest, CodeClientClosedRequest)
	if st := b.Stats().Admission; st.Queued != 0 || st.ShedQueueFull+st.ShedQueueWait != 0 {
		t.Errorf("admission = %+v, want an empty queue and nothing shed", st)
	}

	g.open()
	if rec := <-held; rec.Code != http.StatusOK {
		t.Errorf("held sign-in: status %d", rec.Code)
	}
	// The request that left changed nothing: the client token still works.
	if rec := mintToken(t, b, si); rec.Code != http.StatusOK {
		t.Errorf("refresh after a request left the queue: status %d, body %s", rec.Code, rec.Body)
	}
}

// firstRead reports on a channel when the body it wraps is first read.
type firstRead struct {
	io.ReadCloser
	once sync.Once
	ch   chan struct{}
}

// Read reports the first read, then reads.
func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.ch) })
	return f.ReadCloser.Read(p)
}

func TestSlowRequestBodyHoldsNoSlot(t *testing.T) {
	// The sign-ins below run one at a time: none ever waits, unless the
	// slow body holds the slot.
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: 1, MaxQueue: 1, QueueWait: 5 * time.Second})
	reading := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Slow") != "" {
			r.Body = &firstRead{ReadCloser: r.Body, ch: reading}
		}
		b.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	// A sign-in whose body arrives in two parts, the second held back.
	pr, pw := io.Pipe()
	defer pw.Close() // before the server closes: it waits for this request
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/client/sign_ins", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Slow", "1")
	slow := make(chan *http.Response, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
		}
		slow <- resp
	}()
	if _, err := pw.Write([]byte(`{"identifier":`)); err != nil {
		t.Fatal(err)
	}
	<-reading

	// The only slot is free for everyone else meanwhile.
	for range 3 {
		resp, err := client.Post(srv.URL+"/v1/client/sign_ins", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in beside a slow body: status %d", resp.StatusCode)
		}
	}
	if _, err := pw.Write([]byte(`"slow@example.com"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if resp := <-slow; resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slow sign-in: %+v", resp)
	} else {
		resp.Body.Close()
	}
	if st := b.Stats().Admission; st.InflightPeak != 1 || st.QueuedPeak != 0 {
		t.Errorf("admission = %+v, want one request at a time and none queued", st)
	}
}

// hammerClient is one client of TestBackendSurvivesTenTimesItsCapacity. It
// retries every shed request at once, ignoring Retry-After.
type hammerClient struct {
	t      *testing.T
	hc     *http.Client
	base   string
	shed   *atomic.Int64 // 503 overloaded answers seen by all clients
	counts map[string]map[string]int64

	sid, clientToken, prevToken, jwt string
}

// maxAttempts bounds how often a hammer client sends one request.
const maxAttempts = 100000

// do sends a request until it is not shed and returns the 200 body, or
// reports what else came and returns nil.
func (c *hammerClient) do(ep, method, path, auth string) []byte {
	for range maxAttempts {
		req, err := http.NewRequest(method, c.base+path, nil)
		if err != nil {
			c.t.Error(err)
			return nil
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			c.t.Errorf("%s: %v", path, err)
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			c.t.Errorf("%s: read body: %v", path, err)
			return nil
		}
		if c.counts[ep] == nil {
			c.counts[ep] = map[string]int64{}
		}
		c.counts[ep][strconv.Itoa(resp.StatusCode)]++
		if resp.StatusCode == http.StatusOK {
			return body
		}
		var er ErrorResponse
		ra, raErr := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(body, &er) != nil ||
			len(er.Errors) != 1 || er.Errors[0].Code != CodeOverloaded || raErr != nil || ra < 1 {
			c.t.Errorf("%s %s: status %d, Retry-After %q, body %s; want 200 or 503 overloaded with Retry-After",
				method, path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
			return nil
		}
		c.shed.Add(1)
	}
	c.t.Errorf("%s: shed %d times in a row", path, maxAttempts)
	return nil
}

// run signs in, then refreshes (the client token rotates each time) and
// calls the API rounds times.
func (c *hammerClient) run(rounds int) {
	var si signInResponse
	body := c.do(EndpointSignIn, http.MethodPost, "/v1/client/sign_ins", "")
	if body == nil || json.Unmarshal(body, &si) != nil {
		return
	}
	c.sid, c.clientToken, c.jwt = si.Session.ID, si.ClientToken, si.JWT
	for range rounds {
		var tr tokenResponse
		body := c.do(EndpointToken, http.MethodPost, "/v1/client/sessions/"+c.sid+"/tokens", c.clientToken)
		if body == nil || json.Unmarshal(body, &tr) != nil || tr.ClientToken == "" {
			c.t.Errorf("refresh of %s: %s", c.sid, body)
			return
		}
		c.prevToken, c.clientToken, c.jwt = c.clientToken, tr.ClientToken, tr.JWT
		if c.do(EndpointAPI, http.MethodGet, "/api/feed", c.jwt) == nil {
			return
		}
	}
}

// TestBackendSurvivesTenTimesItsCapacity has ten times as many clients as
// the backend admits (2 in flight + 4 queued) sign in, refresh with strict
// rotation and call the API, retrying every shed request at once. Every
// answer is a 200 or a 503 overloaded with Retry-After; in-flight and queued
// requests never exceed their bounds; and afterwards every session that
// signed in refreshes with the last client token it was given, while the
// one before is detected as reused.
func TestBackendSurvivesTenTimesItsCapacity(t *testing.T) {
	const maxInflight, maxQueue, rounds = 2, 4, 3
	const clients = 10 * (maxInflight + maxQueue)
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA, MaxInflight: maxInflight, MaxQueue: maxQueue,
		QueueWait: time.Minute, Rotation: Rotation{Enabled: true}})

	// Admitted requests are held until plenty have been shed, so the
	// overload is certain; the trace also measures concurrency itself.
	var handling, handlingPeak, shedSeen atomic.Int64
	gate, shedEnough := make(chan struct{}), make(chan struct{})
	b.admission.trace = &admissionTrace{
		enter: func() {
			raise(&handlingPeak, handling.Add(1))
			<-gate
		},
		leave: func() { handling.Add(-1) },
		shed: func() {
			if shedSeen.Add(1) == 10*clients {
				close(shedEnough)
			}
		},
	}
	srv, err := b.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer hc.CloseIdleConnections()

	var shed atomic.Int64
	cs := make([]*hammerClient, clients)
	var wg sync.WaitGroup
	for i := range cs {
		cs[i] = &hammerClient{t: t, hc: hc, base: srv.URL, shed: &shed, counts: map[string]map[string]int64{}}
		wg.Go(func() { cs[i].run(rounds) })
	}
	<-shedEnough
	close(gate)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	st := b.Stats()
	counts := map[string]map[string]int64{}
	for _, c := range cs {
		for ep, m := range c.counts {
			if counts[ep] == nil {
				counts[ep] = map[string]int64{}
			}
			for code, n := range m {
				counts[ep][code] += n
			}
		}
	}
	if !equalEndpoints(st.Endpoints, counts) {
		t.Errorf("server counts %v\nclient counts %v", st.Endpoints, counts)
	}
	a := st.Admission
	t.Logf("%d clients, %d requests shed, admission %+v", clients, shed.Load(), a)
	if a.ShedQueueFull+a.ShedQueueWait != shed.Load() || shed.Load() < 10*clients {
		t.Errorf("server shed %d+%d, clients saw %d; want the same, at least %d", a.ShedQueueFull, a.ShedQueueWait, shed.Load(), 10*clients)
	}
	if handlingPeak.Load() != maxInflight || a.InflightPeak != maxInflight {
		t.Errorf("at most %d requests handled at once (server says %d), want %d", handlingPeak.Load(), a.InflightPeak, maxInflight)
	}
	// The queue filled (requests were shed for lack of room) and no more
	// goroutines than its bound ever waited in it.
	if a.QueuedPeak != maxQueue {
		t.Errorf("queue peak %d, want %d", a.QueuedPeak, maxQueue)
	}
	if a.Inflight != 0 || a.Queued != 0 {
		t.Errorf("after the load: %d in flight, %d queued", a.Inflight, a.Queued)
	}
	if want := map[string]int64{SessionActive: clients}; !maps.Equal(st.Sessions, want) {
		t.Errorf("sessions = %v, want %v", st.Sessions, want)
	}
	if want := int64(clients * (1 + rounds)); st.TokensMinted != want {
		t.Errorf("TokensMinted = %d, want %d (one per 200 sign-in and refresh)", st.TokensMinted, want)
	}

	// Nothing acknowledged was lost: the last client token each session was
	// given is its current one, and the one before it is a reuse.
	for _, c := range cs {
		path := "/v1/client/sessions/" + c.sid + "/tokens"
		if body := c.do(EndpointToken, http.MethodPost, path, c.clientToken); body == nil {
			t.Fatalf("session %s no longer refreshes with its last client token", c.sid)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.prevToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var er ErrorResponse
		err = json.NewDecoder(resp.Body).Decode(&er)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || err != nil || len(er.Errors) != 1 || er.Errors[0].Code != CodeClientTokenReused {
			t.Errorf("session %s: the client token before the last answered %d %+v, want 401 %s", c.sid, resp.StatusCode, er, CodeClientTokenReused)
		}
	}
}
