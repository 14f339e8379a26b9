package target

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// sessionAPI is a bespoke session API: POST /login with a JSON body, POST
// /sessions/{sid}/refresh with the refresh token as bearer (rotated), GET
// /me with the token in X-Token.
type sessionAPI struct {
	mu       sync.Mutex
	newest   map[string]string // sid → refresh token
	seq      int
	logins   []string // bodies
	opaque   bool     // tokens are not JWTs; X-Expires-In says their life
	requests []string
}

func (s *sessionAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	token := oaJWT(oaNow, oaNow.Add(time.Minute))
	if s.opaque {
		token = "opaque-token"
		w.Header().Set("X-Expires-In", "90")
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/login":
		b, _ := io.ReadAll(r.Body)
		s.logins = append(s.logins, string(b))
		s.seq++
		sid := "s" + strings.Repeat("1", s.seq)
		s.newest[sid] = "r" + sid
		oaJSON(w, 200, map[string]any{"data": map[string]any{"token": token, "refresh": "r" + sid, "sid": sid}})
	case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/sessions/"):
		sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/sessions/"), "/refresh")
		if r.Header.Get("Authorization") != "Bearer "+s.newest[sid] {
			oaJSON(w, 401, map[string]any{"code": "session_expired", "message": "refresh token already used"})
			return
		}
		s.newest[sid] += "+"
		oaJSON(w, 200, map[string]any{"data": map[string]any{"token": token, "refresh": s.newest[sid]}})
	case r.Method == "GET" && r.URL.Path == "/me":
		if r.Header.Get("X-Token") == "" {
			w.WriteHeader(401)
		}
	default:
		w.WriteHeader(404)
	}
}

func httpTargetFor(t *testing.T, srv *httptest.Server, mod func(*HTTPTargetConfig)) (*HTTPTarget, error) {
	t.Helper()
	cfg := HTTPTargetConfig{
		SignIn: HTTPRequestSpec{URL: srv.URL + "/login", Headers: []string{"X-Client: stampede-{{.Index}}"},
			Body: `{"user": {{json .User}}, "password": {{json .Password}}, "key": {{json (env "TEST_KEY")}}}`},
		Refresh: HTTPRequestSpec{URL: srv.URL + "/sessions/{{.SessionID}}/refresh", Headers: []string{"Authorization: Bearer {{.RefreshToken}}"}},
		API:     HTTPRequestSpec{URL: srv.URL + "/me", Headers: []string{"X-Token: {{.Token}}"}},
		Response: HTTPResponseSpec{Token: "data.token", RefreshToken: "data.refresh", SessionID: "data.sid",
			ExpiresIn: "header:X-Expires-In"},
		User: func(i int) (OAuth2User, bool) {
			return OAuth2User{Name: FormatUser("user%d", i), Password: `p"w`}, true
		},
		Getenv: func(k string) (string, bool) { return map[string]string{"TEST_KEY": "k3y"}[k], k == "TEST_KEY" },
		Client: srv.Client(), Now: func() time.Time { return oaNow },
	}
	if mod != nil {
		mod(&cfg)
	}
	return NewHTTPTarget(cfg)
}

func TestHTTPTargetSignInRefreshCall(t *testing.T) {
	api := &sessionAPI{newest: map[string]string{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	h, err := httpTargetFor(t, srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cr, out := h.SignIn(ctx, "user-3")
	if out.Class != model.ClassOK || cr.SessionID != "s1" || cr.ClientToken != "rs1" || !cr.ExpiresAt.IsZero() {
		t.Fatalf("sign-in: %+v %+v", cr, out)
	}
	var login map[string]string
	if err := json.Unmarshal([]byte(api.logins[0]), &login); err != nil || login["user"] != "user3" || login["password"] != `p"w` || login["key"] != "k3y" {
		t.Errorf("login body %s (%v)", api.logins[0], err)
	}
	next, out := h.Refresh(ctx, cr.SessionID, cr.ClientToken)
	if out.Class != model.ClassOK || next.ClientToken != "rs1+" || next.SessionID != "s1" {
		t.Fatalf("refresh: %+v %+v", next, out)
	}
	// The old refresh token again: refused, and told apart as reuse.
	if _, out := h.Refresh(ctx, cr.SessionID, cr.ClientToken); out.Class != model.Class401 || out.Code != CodeRefreshTokenReused || out.Said != "session_expired" {
		t.Errorf("reuse: %+v; want refresh_token_reused, the server's session_expired kept for what it said", out)
	}
	if out := h.Call(ctx, next.Token); out.Class != model.ClassOK {
		t.Errorf("api: %+v", out)
	}
	if got := strings.Join(api.requests, ", "); got != "POST /login, POST /sessions/s1/refresh, POST /sessions/s1/refresh, GET /me" {
		t.Errorf("requests %s", got)
	}
}

func TestHTTPTargetOpaqueTokensAndNoRefreshToken(t *testing.T) {
	api := &sessionAPI{newest: map[string]string{}, opaque: true}
	srv := httptest.NewServer(api)
	defer srv.Close()
	h, err := httpTargetFor(t, srv, func(c *HTTPTargetConfig) {
		c.Response.RefreshToken = ""
		c.Response.SessionID = ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cr, out := h.SignIn(context.Background(), "user-2")
	if out.Class != model.ClassOK || cr.SessionID != "user2" || cr.ClientToken != "opaque-token" || !cr.ExpiresAt.Equal(oaNow.Add(90*time.Second)) {
		t.Fatalf("sign-in: %+v %+v", cr, out)
	}
}

func TestHTTPTargetAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     http.HandlerFunc
		class model.ErrorClass
		code  string
	}{
		{"embedded error shape", func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 401, map[string]any{"errors": []any{map[string]any{"code": "session_revoked"}}})
		}, model.Class401, "session_revoked"},
		{"OAuth error", func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 400, map[string]any{"error": "invalid_grant"})
		}, model.ClassOther, CodeInvalidGrant},
		{"HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}, model.ClassOther, CodeHTMLBody},
		{"HTML 502", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}, model.Class5xx, CodeHTMLBody},
		{"no token", func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 200, map[string]any{"data": map[string]any{"refresh": "r"}})
		}, model.ClassOther, CodeNoToken},
		{"token of the wrong type", func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 200, map[string]any{"data": map[string]any{"token": map[string]any{}}})
		}, model.ClassOther, CodeNoToken},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"data": {"token": "ab`))
		}, model.ClassOther, CodeInvalidJSON},
		{"no expiry", func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 200, map[string]any{"data": map[string]any{"token": "opaque", "refresh": "r"}})
		}, model.ClassOther, CodeNoExpiry},
		{"reset", func(w http.ResponseWriter, r *http.Request) { reset(t, w) }, model.ClassNetwork, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			h, err := httpTargetFor(t, srv, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, out := h.SignIn(context.Background(), "user-1"); out.Class != tc.class || out.Code != tc.code {
				t.Errorf("outcome %+v, want %s %q", out, tc.class, tc.code)
			}
		})
	}
}

func TestNewHTTPTargetChecksTemplates(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for name, tc := range map[string]struct {
		mod  func(*HTTPTargetConfig)
		want string
	}{
		"syntax":          {func(c *HTTPTargetConfig) { c.Refresh.Body = "{{.SessionID" }, "refresh body"},
		"unknown field":   {func(c *HTTPTargetConfig) { c.API.URL = srv.URL + "/{{.Nope}}" }, "api url"},
		"unset variable":  {func(c *HTTPTargetConfig) { c.Getenv = nil }, "the environment variable TEST_KEY is not set"},
		"header shape":    {func(c *HTTPTargetConfig) { c.SignIn.Headers = []string{"nocolon"} }, `header "nocolon"`},
		"no refresh URL":  {func(c *HTTPTargetConfig) { c.Refresh.URL = "" }, "need a URL"},
		"no token path":   {func(c *HTTPTargetConfig) { c.Response.Token = "" }, "no response token path"},
		"unknown func":    {func(c *HTTPTargetConfig) { c.SignIn.Body = `{{upper .User}}` }, "sign-in body"},
		"missing env arg": {func(c *HTTPTargetConfig) { c.SignIn.Body = `{{env}}` }, "sign-in body"},
	} {
		if _, err := httpTargetFor(t, srv, tc.mod); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"a": {"b": [{"c": "x"}, 42, true]}}`), &doc)
	resp := &http.Response{Header: http.Header{"X-T": {"h"}}}
	for path, want := range map[string]string{"a.b.0.c": "x", "a.b.1": "42", "a.b.2": "true", "header:X-T": "h"} {
		if got, ok := lookup(resp, doc, path); !ok || got != want {
			t.Errorf("lookup(%s) = %q, %v", path, got, ok)
		}
	}
	for _, path := range []string{"a.x", "a.b.9", "a.b.-1", "a.b.0", "a.b.0.c.d", "header:Nope"} {
		if got, ok := lookup(resp, doc, path); ok {
			t.Errorf("lookup(%s) = %q, want nothing", path, got)
		}
	}
}

func TestHTTPTargetExpiryNeverOverflows(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	h, err := httpTargetFor(t, srv, func(c *HTTPTargetConfig) { c.Response.ExpiresAt = "header:X-Expires-At" })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in, at string // X-Expires-In, X-Expires-At
		want   time.Time
		ok     bool
	}{
		{in: "60", want: oaNow.Add(time.Minute), ok: true},
		{in: "1e10", want: time.Unix(oaNow.Unix()+1e10, 0), ok: true}, // 317 years: past time.Duration
		{in: "1e300"},
		{in: "-5"},
		{in: "NaN"},
		{at: "1800000000", want: time.Unix(1_800_000_000, 0), ok: true},
		{at: "1e18"},
		{at: "1e300"},
		{in: "1e300", at: "1800000000", want: time.Unix(1_800_000_000, 0), ok: true},
	} {
		get := func(p string) (string, bool) {
			v := map[string]string{"header:X-Expires-In": tc.in, "header:X-Expires-At": tc.at}[p]
			return v, v != ""
		}
		got, ok := h.expiry(get)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("expires_in %q, expires_at %q: %v %v, want %v %v", tc.in, tc.at, got.UTC(), ok, tc.want.UTC(), tc.ok)
		}
	}
}
