package proxy

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// sendWithID sends an API call with tok and call id id through h.
func (h *harness) sendWithID(path, tok, id string) int {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProxyCountsARetryWithANewerTokenAsNotStale(t *testing.T) {
	up := &fakeFAPI{}
	h := newHarness(t, up, profiles.Default(), nil)
	ct, t1 := h.signIn()
	up.reject.Store(t1, true)
	if code := h.sendWithID("/api/me", t1, "call-1"); code != 401 {
		t.Fatalf("want 401, got %d", code)
	}
	t2 := h.refresh(ct)
	h.refresh(ct) // t3: issued, but the app retries with t2, the newest it read
	if code := h.sendWithID("/api/me", t2, "call-1"); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	if got := h.result().Proxy.StaleRetries; got != 0 {
		t.Errorf("stale retries %d for a retry with a token newer than the rejected one, want 0", got)
	}
	// A retry with the very token its 401 answered, t3 issued meanwhile: stale.
	if code := h.sendWithID("/api/me", t1, "call-2"); code != 401 {
		t.Fatalf("want 401, got %d", code)
	}
	h.sendWithID("/api/me", t1, "call-2")
	if got := h.result().Proxy.StaleRetries; got != 1 {
		t.Errorf("stale retries %d, want 1", got)
	}
}

func TestProxyTellsARetryByItsCallIDHoweverLate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	up := &fakeFAPI{}
	h := newHarness(t, up, profiles.Default(), func(c *Config) {
		c.Now = func() time.Time { return now }
		c.RetryWindow = time.Second
	})
	_, tok := h.signIn()
	up.reject.Store(tok, true)
	for range 3 { // one call, retried twice, each try later than the window
		h.sendWithID("/api/me", tok, "slow-call")
		now = now.Add(5 * time.Second)
	}
	for range 3 { // the same URL without an id: three new calls
		h.sendWithID("/api/items", tok, "")
		now = now.Add(5 * time.Second)
	}
	if got := h.result().Proxy.RetryLoops; got != 1 {
		t.Errorf("retry loops %d, want 1 (the call with an id)", got)
	}
}

// TestCallKeyIsTheRequestURIsDigest: callKey digests what a retry repeats
// (method, path with query as RequestURI gives it, call ids, body), and
// tells apart calls that differ in any of them.
func TestCallKeyIsTheRequestURIsDigest(t *testing.T) {
	for _, target := range []string{"/api/items?id=7", "/api/items", "/api/a%20b?x", "/api/é", "/api/items?", "/api/(x)*;y=1"} {
		r := httptest.NewRequest("POST", target, nil)
		r.Header.Set("X-Request-Id", "r1")
		want := sha256.Sum256([]byte("POST " + r.URL.RequestURI() + "\n\nr1\nbody"))
		if got := callKey(r, []byte("body")); got != want {
			t.Errorf("%s: callKey is not the digest of its RequestURI", target)
		}
	}
	a := httptest.NewRequest("GET", "/api/items?id=1", nil)
	b := httptest.NewRequest("GET", "/api/items?id=2", nil)
	c := httptest.NewRequest("GET", "/api/items?id=1", nil)
	c.Header.Set("Idempotency-Key", "k")
	if callKey(a, nil) == callKey(b, nil) || callKey(a, nil) == callKey(c, nil) || callKey(a, nil) == callKey(a, []byte("x")) {
		t.Error("calls that differ share a key")
	}
	if callKey(a, nil) != callKey(httptest.NewRequest("GET", "/api/items?id=1", nil), nil) {
		t.Error("the same call twice has two keys")
	}
}
