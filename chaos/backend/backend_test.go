package backend

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// epoch is the fake clock's start: a whole second, so that claim encodings
// in tests are predictable.
var epoch = time.Unix(1700000000, 0)

// fakeClock is a manually advanced clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock returns a fakeClock set to epoch.
func newFakeClock() *fakeClock { return &fakeClock{t: epoch} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newTestBackend returns a Backend on a fake clock; Signing defaults to
// ES256 here because RSA key generation is slow.
func newTestBackend(t testing.TB, cfg Config) (*Backend, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Signing == "" {
		cfg.Signing = SigningES256
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, clock
}

// do sends a request through ServeHTTP; auth, if set, is sent as a bearer token.
func do(t testing.TB, b *Backend, method, path, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec
}

// decode decodes a JSON response body.
func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

// expectError asserts an error response with the given status and code.
func expectError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) ErrorDetail {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	resp := decode[ErrorResponse](t, rec)
	if len(resp.Errors) != 1 || resp.Errors[0].Code != code {
		t.Fatalf("errors = %+v, want one with code %q", resp.Errors, code)
	}
	if resp.Errors[0].Message == "" {
		t.Errorf("error %q has no message", code)
	}
	return resp.Errors[0]
}

// signIn signs a new client in and returns the response.
func signIn(t testing.TB, b *Backend) signInResponse {
	t.Helper()
	rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("sign in: status %d, body %s", rec.Code, rec.Body)
	}
	return decode[signInResponse](t, rec)
}

// mintToken calls the token endpoint for a signed-in client.
func mintToken(t testing.TB, b *Backend, si signInResponse) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", si.ClientToken, "")
}

func TestNewFillsDefaults(t *testing.T) {
	b, err := New(Config{Signing: SigningEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.Config()
	if cfg.TokenLifetime != 60*time.Second || cfg.MaxLifetime != 7*24*time.Hour ||
		cfg.InactivityTimeout != 0 || cfg.Issuer != "stampede-backend" ||
		cfg.MaxBodyBytes != 64<<10 || cfg.Now == nil || cfg.Signing != SigningEdDSA ||
		cfg.MaxInflight != 4*runtime.GOMAXPROCS(0) || cfg.MaxQueue != 1024 || cfg.QueueWait != 2*time.Second {
		t.Errorf("Config() = %+v, want defaults", cfg)
	}
}

func TestNewSigningIsCaseInsensitive(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: "eddsa"})
	if got := b.Config().Signing; got != SigningEdDSA {
		t.Errorf("Signing = %q, want %q", got, SigningEdDSA)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{TokenLifetime: -time.Second}, "TokenLifetime"},
		{Config{TokenLifetime: 500 * time.Microsecond}, "TokenLifetime"},
		{Config{MaxLifetime: -time.Second}, "MaxLifetime"},
		{Config{InactivityTimeout: -time.Second}, "InactivityTimeout"},
		{Config{MaxBodyBytes: -1}, "MaxBodyBytes"},
		{Config{Signing: "HS256"}, "Signing"},
		{Config{MaxInflight: -1}, "MaxInflight"},
		{Config{MaxQueue: -1}, "MaxQueue"},
		{Config{QueueWait: -time.Second}, "QueueWait"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tt.cfg, err, tt.field)
		}
	}
}

func TestUnknownRouteIsNotFound(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	for _, path := range []string{"/", "/nope", "/api", "/v1/client/sessions//tokens", "/v1/client/sessions/x/other", "/admin/sessions/x", "/admin/nope"} {
		rec := do(t, b, http.MethodPost, path, "", "")
		expectError(t, rec, http.StatusNotFound, CodeNotFound)
	}
	if got := b.Stats().Endpoints[EndpointOther]["404"]; got != 7 {
		t.Errorf(`Endpoints["other"]["404"] = %d, want 7`, got)
	}
}

func TestWrongMethodIsNotAllowed(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	tests := []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/client/sign_ins", "POST"},
		{http.MethodGet, "/v1/client/sessions/sess_x/tokens", "POST"},
		{http.MethodPost, "/.well-known/jwks.json", "GET, HEAD"},
		{http.MethodOptions, "/api/things", "GET, HEAD, POST, PUT, DELETE, PATCH"},
		{http.MethodDelete, "/admin/stats", "GET, HEAD"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
	}
	for _, tt := range tests {
		rec := do(t, b, tt.method, tt.path, "", "")
		expectError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
		if got := rec.Header().Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestBodyOverLimitIsRejected(t *testing.T) {
	b, _ := newTestBackend(t, Config{MaxBodyBytes: 32})
	big := `{"identifier":"` + strings.Repeat("x", 64) + `"}`

	// Known Content-Length.
	rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", big)
	expectError(t, rec, http.StatusRequestEntityTooLarge, CodeRequestTooLarge)

	// Unknown length (chunked): caught while reading.
	req := httptest.NewRequest(http.MethodPost, "/v1/client/sign_ins", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	expectError(t, rec, http.StatusRequestEntityTooLarge, CodeRequestTooLarge)

	// Endpoints without a body enforce the limit too.
	si := signIn(t, b)
	rec = do(t, b, http.MethodPost, "/v1/client/sessions/"+si.Session.ID+"/tokens", si.ClientToken, big)
	expectError(t, rec, http.StatusRequestEntityTooLarge, CodeRequestTooLarge)

	if got := b.Stats().Endpoints[EndpointSignIn]["413"]; got != 2 {
		t.Errorf(`Endpoints["sign_in"]["413"] = %d, want 2`, got)
	}
}

func TestMalformedJSONIsInvalidRequest(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	tests := []struct{ path, body string }{
		{"/v1/client/sign_ins", "{"},
		{"/v1/client/sign_ins", `{"identifier":1}`},
		{"/v1/client/sign_ins", `{} trailing`},
		{"/admin/keys/rotate", `{"keep_previous":"yes"}`},
		{"/admin/revoke", "["},
	}
	for _, tt := range tests {
		rec := do(t, b, http.MethodPost, tt.path, "", tt.body)
		expectError(t, rec, http.StatusBadRequest, CodeInvalidRequest)
	}
}

func TestEmptyBodyIsAllowedWhereOptional(t *testing.T) {
	b, _ := newTestBackend(t, Config{})
	for _, body := range []string{"", "  \n", "{}"} {
		rec := do(t, b, http.MethodPost, "/v1/client/sign_ins", "", body)
		if rec.Code != http.StatusOK {
			t.Errorf("sign in with body %q: status %d, body %s", body, rec.Code, rec.Body)
		}
	}
	if rec := do(t, b, http.MethodPost, "/admin/keys/rotate", "", ""); rec.Code != http.StatusOK {
		t.Errorf("rotate with empty body: status %d, body %s", rec.Code, rec.Body)
	}
}
