package proxy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// jwt makes an unsigned compact JWT with the claims given.
func jwt(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".sig"
}

// fakeFAPI is a Frontend-API backend whose answers the test controls.
type fakeFAPI struct {
	seq     atomic.Int64
	hold    chan struct{} // when set, refreshes wait on it
	reject  sync.Map      // tokens the API answers 401
	rotate  bool          // refreshes rotate the client token
	entered chan struct{}
}

func (f *fakeFAPI) token(sid string) string {
	return jwt(map[string]any{"sid": sid, "sub": "user", "iat": time.Now().Unix(), "n": f.seq.Add(1)})
}

func (f *fakeFAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/client/sign_ins":
		fmt.Fprintf(w, `{"client_token":"ct-%d","session":{"id":"s1"},"jwt":%q}`, f.seq.Add(1), f.token("s1"))
	case strings.HasSuffix(r.URL.Path, "/tokens"):
		if f.entered != nil {
			f.entered <- struct{}{}
		}
		if f.hold != nil {
			<-f.hold
		}
		if f.rotate {
			fmt.Fprintf(w, `{"jwt":%q,"client_token":"ct-%d"}`, f.token("s1"), f.seq.Add(1))
			return
		}
		fmt.Fprintf(w, `{"jwt":%q}`, f.token("s1"))
	case strings.HasPrefix(r.URL.Path, "/api/"):
		if _, bad := f.reject.Load(bearer(r.Header.Get("Authorization"))); bad {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	default:
		http.NotFound(w, r)
	}
}

// harness is a proxy in front of an upstream handler.
type harness struct {
	t   *testing.T
	px  *Proxy
	url string
	hc  *http.Client
}

func newHarness(t *testing.T, upstream http.Handler, p profiles.Profile, adjust func(*Config)) *harness {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg := Config{Upstream: u, Profile: p}
	if adjust != nil {
		adjust(&cfg)
	}
	px, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(px)
	t.Cleanup(srv.Close)
	return &harness{t: t, px: px, url: srv.URL, hc: srv.Client()}
}

// do sends a request through the proxy and returns the status and body.
func (h *harness) do(method, path, token, body string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasPrefix(body, "grant_type") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) result() *reports.Result {
	h.t.Helper()
	res, err := h.px.Result("test", "dev", false)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// signIn signs in and returns the client token and the session JWT.
func (h *harness) signIn() (ct, tok string) {
	h.t.Helper()
	code, body := h.do("POST", "/v1/client/sign_ins", "", `{}`)
	if code != 200 {
		h.t.Fatalf("sign-in: %d %s", code, body)
	}
	var a struct {
		CT  string `json:"client_token"`
		JWT string `json:"jwt"`
	}
	_ = json.Unmarshal([]byte(body), &a)
	return a.CT, a.JWT
}

func (h *harness) refresh(ct string) string {
	h.t.Helper()
	code, body := h.do("POST", "/v1/client/sessions/s1/tokens", ct, "")
	if code != 200 {
		h.t.Fatalf("refresh: %d %s", code, body)
	}
	var a struct {
		JWT string `json:"jwt"`
	}
	_ = json.Unmarshal([]byte(body), &a)
	return a.JWT
}

func TestProxyCountsAWellBehavedSessionClean(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	ct, tok := h.signIn()
	if code, _ := h.do("GET", "/api/me", tok, ""); code != 200 {
		t.Fatalf("api: %d", code)
	}
	tok = h.refresh(ct)
	h.do("GET", "/api/me", tok, "")
	h.do("GET", "/other", "", "")
	res := h.result()
	if res.Mode != reports.ModeProxy || res.Proxy == nil {
		t.Fatalf("mode %q, proxy %v", res.Mode, res.Proxy)
	}
	if got := res.Proxy.Sessions; got != 1 {
		t.Errorf("sessions %d, want 1 (sign-in, refresh and API calls of one sid)", got)
	}
	for name, want := range map[string]int64{"sign_in": 1, "refresh": 1, "api": 2} {
		if op := res.Ops[name]; op == nil || op.Count != want || op.OK != want {
			t.Errorf("ops.%s = %+v, want %d ok", name, op, want)
		}
	}
	p := res.Proxy
	if p.DuplicateRefreshes+p.RefreshTokenReuse+p.StaleRetries+p.RetryLoops+p.Unattributed != 0 {
		t.Errorf("a well-behaved session counted as misbehaving: %+v", p)
	}
}

func TestProxyCountsARefreshStartedWhileAnotherIsInFlight(t *testing.T) {
	up := &fakeFAPI{hold: make(chan struct{}), entered: make(chan struct{}, 2)}
	h := newHarness(t, up, profiles.Default(), nil)
	ct, _ := h.signIn()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.do("POST", "/v1/client/sessions/s1/tokens", ct, "") })
	}
	<-up.entered
	<-up.entered // both are in flight upstream
	close(up.hold)
	wg.Wait()
	res := h.result()
	if got := res.Proxy.DuplicateInflight; got != 1 {
		t.Errorf("duplicate refreshes in flight %d, want 1", got)
	}
	if res.Herd.MaxInflight != 2 || res.Herd.DuplicateRefreshes != 1 {
		t.Errorf("herd max in flight %d, duplicates %d; want 2 and 1", res.Herd.MaxInflight, res.Herd.DuplicateRefreshes)
	}
}

func TestProxyCountsASecondRefreshOfTheSameGeneration(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), func(c *Config) { c.GenerationWindow = time.Hour })
	ct, tok := h.signIn()
	h.do("GET", "/api/me", tok, "")
	h.refresh(ct) // the first: fine
	h.refresh(ct) // again before any call used the new token: a duplicate
	tok = h.refresh(ct)
	h.do("GET", "/api/me", tok, "")
	h.refresh(ct) // the new token was used: a new generation
	if got := h.result().Proxy.DuplicateSameGeneration; got != 2 {
		t.Errorf("same-generation duplicates %d, want 2", got)
	}
}

func TestProxyCountsNoDuplicateOnceEveryRefreshedTokenWasBorne(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), func(c *Config) { c.GenerationWindow = time.Hour })
	ct, tok := h.signIn()
	h.do("GET", "/api/me", tok, "")
	for range 3 {
		tok = h.refresh(ct) // each answer read: its token borne before the next refresh
		h.do("GET", "/api/me", tok, "")
	}
	if got := h.result().Proxy.DuplicateSameGeneration; got != 0 {
		t.Errorf("same-generation duplicates %d, want 0", got)
	}
}

func TestProxyCountsReuseOfARotatedClientToken(t *testing.T) {
	h := newHarness(t, &fakeFAPI{rotate: true}, profiles.Default(), nil)
	ct, tok := h.signIn()
	h.do("GET", "/api/me", tok, "")
	h.refresh(ct) // rotates ct
	h.refresh(ct) // presents the rotated one
	res := h.result()
	if got := res.Proxy.RefreshTokenReuse; got != 1 {
		t.Errorf("reuse %d, want 1", got)
	}
}

func TestProxyCountsStaleRetriesAndRetryLoops(t *testing.T) {
	up := &fakeFAPI{}
	h := newHarness(t, up, profiles.Default(), nil)
	ct, old := h.signIn()
	up.reject.Store(old, true)
	if code, _ := h.do("GET", "/api/items?id=7", old, ""); code != 401 {
		t.Fatalf("want the rejected token answered 401, got %d", code)
	}
	fresh := h.refresh(ct)
	h.do("GET", "/api/items?id=7", old, "") // a retry with the superseded, rejected token
	res := h.result()
	if got := res.Proxy.StaleRetries; got != 1 {
		t.Errorf("stale retries %d, want 1", got)
	}
	if got := res.Proxy.RetryLoops; got != 0 {
		t.Errorf("retry loops %d after one retry, want 0", got)
	}
	h.do("GET", "/api/items?id=7", old, "") // a third try after two 401s: a loop
	h.do("GET", "/api/items?id=7", old, "") // the same loop, counted once
	h.do("GET", "/api/items?id=8", fresh, "")
	res = h.result()
	if got := res.Proxy.RetryLoops; got != 1 {
		t.Errorf("retry loops %d, want 1", got)
	}
	if got := res.Ops["api"].Errors["http_401"]; got != 4 {
		t.Errorf("api 401s %d, want 4", got)
	}
}

func TestProxyTellsOAuth2SessionsApartAndCountsRotatedRefreshTokenReuse(t *testing.T) {
	var n atomic.Int64
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			io.WriteString(w, "ok")
			return
		}
		_ = r.ParseForm()
		user := r.Form.Get("username")
		if rt := r.Form.Get("refresh_token"); rt != "" {
			user, _, _ = strings.Cut(rt, "/")
		}
		k := n.Add(1)
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"%s/rt-%d","expires_in":60}`,
			jwt(map[string]any{"sub": user, "iat": time.Now().Unix(), "k": k}), user, k)
	})
	p := profiles.Default()
	p.Target = profiles.Target{Kind: profiles.TargetOAuth2, URL: "http://idp", TokenEndpoint: "/oauth/token", APIURL: "/api/"}
	h := newHarness(t, up, p, nil)
	rts := map[string]string{}
	for _, u := range []string{"alice", "bob"} {
		_, body := h.do("POST", "/oauth/token", "", "grant_type=password&username="+u+"&password=x")
		var a struct {
			RT string `json:"refresh_token"`
		}
		_ = json.Unmarshal([]byte(body), &a)
		rts[u] = a.RT
	}
	h.do("POST", "/oauth/token", "", "grant_type=refresh_token&refresh_token="+url.QueryEscape(rts["alice"]))
	h.do("POST", "/oauth/token", "", "grant_type=refresh_token&refresh_token="+url.QueryEscape(rts["alice"])) // rotated already
	h.do("POST", "/oauth/token", "", "grant_type=refresh_token&refresh_token="+url.QueryEscape(rts["bob"]))
	res := h.result()
	if res.Proxy.Sessions != 2 {
		t.Errorf("sessions %d, want 2 (alice and bob by the JWT's sub)", res.Proxy.Sessions)
	}
	if res.Proxy.RefreshTokenReuse != 1 {
		t.Errorf("reuse %d, want 1 (alice's rotated token)", res.Proxy.RefreshTokenReuse)
	}
	if res.Ops["sign_in"].Count != 2 || res.Ops["refresh"].Count != 3 {
		t.Errorf("sign-ins %d, refreshes %d; want 2 and 3", res.Ops["sign_in"].Count, res.Ops["refresh"].Count)
	}
}

func TestProxyKeyRotationRejectsTokensIssuedBeforeIt(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	ct, old := h.signIn()
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventKeyRotation}); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.do("GET", "/api/me", old, ""); code != 401 {
		t.Errorf("a token issued before the rotation: %d, want 401", code)
	}
	fresh := h.refresh(ct)
	if code, _ := h.do("GET", "/api/me", fresh, ""); code != 200 {
		t.Errorf("a token issued after the rotation: %d, want 200", code)
	}
	if got := h.result().Proxy.Faults["key_rotation"]; got != 1 {
		t.Errorf("key_rotation answers %d, want 1", got)
	}
}

func TestProxyBrownoutAnswers429WithRetryAfterAnd503(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	ct, _ := h.signIn()
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventBrownout, Rate429: 1, RetryAfter: profiles.Duration(1500 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", h.url+"/v1/client/sessions/s1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+ct)
	resp, err := h.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("got %d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	h.px.ClearFaults()
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventBrownout, Rate503: 1}); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.do("POST", "/v1/client/sessions/s1/tokens", ct, ""); code != 503 {
		t.Errorf("got %d, want 503", code)
	}
	if code, _ := h.do("POST", "/v1/client/sign_ins", "", "{}"); code != 200 {
		t.Errorf("a sign-in during a refresh brownout: %d, want 200", code)
	}
}

func TestProxySpurious401HitsOnlyAPICalls(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventSpurious401, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	ct, tok := h.signIn()
	if code, _ := h.do("GET", "/api/me", tok, ""); code != 401 {
		t.Errorf("api: %d, want 401", code)
	}
	h.refresh(ct)
	if _, err := h.px.AddFault(profiles.Event{Type: "clock_skew"}); err == nil {
		t.Error("a clock_skew fault was accepted; the proxy cannot apply it")
	}
}

func TestProxyBadInputGetsCleanErrors(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(up.URL)
	up.Close() // the upstream is down
	px, err := New(Config{Upstream: u, Profile: profiles.Default(), MaxBody: 1024})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(px)
	defer srv.Close()
	secret := jwt(map[string]any{"sid": "s9", "iat": 1})
	req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.Contains(string(b), "upstream_unreachable") || strings.Contains(string(b), secret) {
		t.Errorf("upstream down: %d %s", resp.StatusCode, b)
	}
	for _, tok := range []string{"a.b.c", "..", "x.!!!.y", strings.Repeat("a", 20000) + ".e30.x", "e30.bnVsbA.x"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("malformed token %.20q: %v", tok, err)
		}
		resp.Body.Close()
	}
	resp, err = srv.Client().Post(srv.URL+"/v1/client/sign_ins", "application/json", strings.NewReader(strings.Repeat("x", 4096)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("huge body: %d, want 413", resp.StatusCode)
	}
	res, err := px.Result("r", "dev", true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Proxy.UpstreamErrors == 0 || res.Proxy.Rejected != 1 || !res.Partial {
		t.Errorf("upstream errors %d, rejected %d, partial %v", res.Proxy.UpstreamErrors, res.Proxy.Rejected, res.Partial)
	}
	dir := t.TempDir()
	if err := WriteResults(dir, res); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ResultName, ReportName, JUnitName, MarkdownName} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) || strings.Contains(string(b), "s9") {
			t.Errorf("%s holds a token or its session id in clear", name)
		}
	}
}

func TestProxyResultLeavesOutWhatOnlyARunKnowsAndGatesThresholds(t *testing.T) {
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "proxy.duplicate_refreshes == 0"}, {Expr: "proxy.sessions >= 1"}}
	up := &fakeFAPI{}
	h := newHarness(t, up, p, func(c *Config) { c.GenerationWindow = time.Hour })
	ct, _ := h.signIn()
	h.refresh(ct)
	h.refresh(ct)
	res := h.result()
	if res.Verdict != reports.VerdictFail || res.Thresholds[0].OK || !res.Thresholds[1].OK {
		t.Fatalf("verdict %s, thresholds %+v", res.Verdict, res.Thresholds)
	}
	dir := t.TempDir()
	if err := WriteResults(dir, res); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ResultName))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range clientOnly {
		if _, ok := doc[k]; ok {
			t.Errorf("result.json has %q, which only a client-side run knows", k)
		}
	}
	if string(doc["mode"]) != `"proxy"` {
		t.Errorf("mode %s", doc["mode"])
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownName))
	if !strings.Contains(string(md), "| duplicate refreshes | 1 (in flight 0, same generation 1) |") || strings.Contains(string(md), "**Requests:**") {
		t.Errorf("report.md shows no proxy figures, or a run's requests:\n%s", md)
	}
	page, _ := os.ReadFile(filepath.Join(dir, ReportName))
	if !strings.Contains(string(page), "… of the same generation") || strings.Contains(string(page), "scheduling lag") {
		t.Error("report.html shows no proxy figures, or a run's engine")
	}
	back, err := reports.DecodeResult(b)
	if err != nil || back.Proxy == nil || back.Proxy.DuplicateRefreshes != 1 {
		t.Errorf("result.json does not read back: %v %+v", err, back)
	}
}

func TestProxyOutageHoldsOrResetsTheSessionsRequests(t *testing.T) {
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), nil)
	_, tok := h.signIn()
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventOutage, Mode: profiles.OutageFailFast}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", h.url+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := h.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("fail_fast outage: answered %d, want the connection reset", resp.StatusCode)
	}
	h.px.ClearFaults()
	const hold = 150 * time.Millisecond
	f, err := h.px.AddFault(profiles.Event{Type: profiles.EventOutage, Mode: profiles.OutageBlackhole, Duration: profiles.Duration(hold)})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := h.do("GET", "/api/me", tok, "")
	if code != 200 {
		t.Errorf("after the blackhole ended: %d, want the held request forwarded (200)", code)
	}
	if since := time.Since(h.px.Start().Add(f.Start)); since < hold {
		t.Errorf("answered %s into a %s blackhole", since, hold)
	}
	faults := h.result().Proxy.Faults
	if faults["outage_fail_fast"] < 1 || faults["outage_blackhole"] != 1 { // Go's client retries an idempotent GET once on a reset
		t.Errorf("faults %v", faults)
	}
}

func TestProxyTellsNewCallsFromRetriesByTheirRequestID(t *testing.T) {
	up := &fakeFAPI{}
	h := newHarness(t, up, profiles.Default(), nil)
	_, tok := h.signIn()
	up.reject.Store(tok, true)
	send := func(id string) {
		req, _ := http.NewRequest("GET", h.url+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Request-Id", id)
		resp, err := h.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, id := range []string{"a", "b", "c", "d"} { // four new calls, each answered 401
		send(id)
	}
	if got := h.result().Proxy.RetryLoops; got != 0 {
		t.Errorf("retry loops %d for four calls with their own ids, want 0", got)
	}
	send("a")
	send("a") // the third try of call a after two 401s
	if got := h.result().Proxy.RetryLoops; got != 1 {
		t.Errorf("retry loops %d, want 1", got)
	}
}

func TestProxyForgetsCallsTheAppGaveUpOn(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := newHarness(t, &fakeFAPI{}, profiles.Default(), func(c *Config) {
		c.Now = func() time.Time { return now }
		c.RetryWindow = time.Second
	})
	_, tok := h.signIn()
	if _, err := h.px.AddFault(profiles.Event{Type: profiles.EventSpurious401, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 { // each call answered 401 once and given up on
		h.do("GET", fmt.Sprintf("/api/items?req=%d", i), tok, "")
		now = now.Add(100 * time.Millisecond)
	}
	h.px.fleet.mu.Lock()
	defer h.px.fleet.mu.Unlock()
	for _, s := range h.px.fleet.sessions {
		if len(s.retries) > maxRetryStates {
			t.Errorf("a session keeps %d calls answered 401, want at most %d", len(s.retries), maxRetryStates)
		}
	}
}
