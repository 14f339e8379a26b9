package proxy

import (
	"crypto/sha256"
	"net/http/httptest"
	"testing"
)

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
