package target

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// oaJWT is an unsigned JWT whose payload carries exp (and iat).
func oaJWT(iat, exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
		enc(fmt.Appendf(nil, `{"sub":"u","iat":%d,"exp":%d}`, iat.Unix(), exp.Unix())) + ".sig"
}

// oaJWTExp is an access token JWT whose exp claim is exp seconds.
func oaJWTExp(exp float64) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"u","exp":%g}`, exp)) + ".sig"
}

var oaNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// oaTarget is an OAuth2 against srv with a fixed clock.
func oaTarget(t *testing.T, srv *httptest.Server, mod func(*OAuth2Config)) *OAuth2 {
	t.Helper()
	cfg := OAuth2Config{
		TokenURL: srv.URL + "/token", ClientID: "stampede", ClientSecret: "s3cr:et",
		Scope: "openid offline_access", UserPattern: "user%d@example.com", Password: "pw",
		APIURL: srv.URL + "/api", Client: srv.Client(), Now: func() time.Time { return oaNow },
	}
	if mod != nil {
		mod(&cfg)
	}
	o, err := NewOAuth2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// oaServe answers every token request with handler.
func oaServe(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

func oaJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestOAuth2PasswordGrantBasicAuth(t *testing.T) {
	access := oaJWT(oaNow, oaNow.Add(time.Minute))
	var got url.Values
	var auth string
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		_ = r.ParseForm()
		got, auth = r.PostForm, r.Header.Get("Authorization")
		oaJSON(w, 200, map[string]any{"access_token": access, "token_type": "bearer", "expires_in": 59, "refresh_token": "rt-1"})
	})
	o := oaTarget(t, srv, nil)
	cr, out := o.SignIn(context.Background(), "user-7")
	if out.Class != model.ClassOK {
		t.Fatalf("outcome %+v", out)
	}
	want := Credentials{SessionID: "user7@example.com", ClientToken: "rt-1", Token: access}
	if cr != want {
		t.Errorf("credentials %+v, want %+v (ExpiresAt zero: the client reads the JWT's exp)", cr, want)
	}
	if got.Get("grant_type") != "password" || got.Get("username") != "user7@example.com" || got.Get("password") != "pw" ||
		got.Get("scope") != "openid offline_access" {
		t.Errorf("form %v", got)
	}
	if got.Has("client_id") || got.Has("client_secret") {
		t.Errorf("basic auth must not send the client in the form: %v", got)
	}
	// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("stampede:s3cr%3Aet"))
	if auth != wantAuth {
		t.Errorf("Authorization %q, want %q", auth, wantAuth)
	}
}

func TestOAuth2ClientAuthPostAndPublic(t *testing.T) {
	var got url.Values
	var auth string
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got, auth = r.PostForm, r.Header.Get("Authorization")
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": "rt-2"})
	})
	o := oaTarget(t, srv, func(c *OAuth2Config) { c.AuthMethod = AuthPost })
	if _, out := o.Refresh(context.Background(), "u", "rt-1"); out.Class != model.ClassOK {
		t.Fatalf("outcome %+v", out)
	}
	if auth != "" || got.Get("client_id") != "stampede" || got.Get("client_secret") != "s3cr:et" ||
		got.Get("grant_type") != "refresh_token" || got.Get("refresh_token") != "rt-1" || got.Has("scope") {
		t.Errorf("post: Authorization %q, form %v", auth, got)
	}
	pub := oaTarget(t, srv, func(c *OAuth2Config) { c.ClientSecret = "" })
	if _, out := pub.Refresh(context.Background(), "u", "rt-1"); out.Class != model.ClassOK {
		t.Fatalf("outcome %+v", out)
	}
	if auth != "" || got.Get("client_id") != "stampede" || got.Has("client_secret") {
		t.Errorf("public client: Authorization %q, form %v", auth, got)
	}
}

func TestOAuth2RefreshRotation(t *testing.T) {
	rotate := true
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		ans := map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute))}
		if rotate {
			ans["refresh_token"] = r.PostFormValue("refresh_token") + "+"
		}
		oaJSON(w, 200, ans)
	})
	o := oaTarget(t, srv, nil)
	cr, out := o.Refresh(context.Background(), "alice", "rt")
	if out.Class != model.ClassOK || cr.ClientToken != "rt+" || cr.SessionID != "alice" {
		t.Fatalf("rotating: %+v %+v", cr, out)
	}
	rotate = false
	cr, out = o.Refresh(context.Background(), "alice", "rt+")
	if out.Class != model.ClassOK || cr.ClientToken != "" {
		t.Fatalf("not rotating: want ClientToken \"\" (keep the old one), got %+v %+v", cr, out)
	}
}

func TestOAuth2Expiry(t *testing.T) {
	jwt := oaJWT(oaNow, oaNow.Add(time.Hour))
	cases := []struct {
		name    string
		expiry  string
		every   time.Duration
		ans     map[string]any
		want    time.Time // zero: read from the JWT
		code    string
		wantErr bool
	}{
		{name: "JWT exp wins over expires_in", ans: map[string]any{"access_token": jwt, "expires_in": 30}},
		{name: "opaque token uses expires_in", ans: map[string]any{"access_token": "opaque", "expires_in": 90}, want: oaNow.Add(90 * time.Second)},
		{name: "quoted expires_in", ans: map[string]any{"access_token": "opaque", "expires_in": "120"}, want: oaNow.Add(2 * time.Minute)},
		{name: "configured expires_in over the JWT", expiry: ExpiryExpiresIn, ans: map[string]any{"access_token": jwt, "expires_in": 30}, want: oaNow.Add(30 * time.Second)},
		{name: "opaque without expires_in", ans: map[string]any{"access_token": "opaque"}, code: CodeNoExpiry},
		{name: "zero expires_in is no expiry", ans: map[string]any{"access_token": "opaque", "expires_in": 0}, code: CodeNoExpiry},
		{name: "expires_in of 1e10 s (317 years) does not wrap", ans: map[string]any{"access_token": "opaque", "expires_in": 1e10},
			want: time.Unix(oaNow.Unix()+1e10, int64(oaNow.Nanosecond()))},
		{name: "expires_in beyond year 9999", ans: map[string]any{"access_token": "opaque", "expires_in": 1e300}, code: model.CodeTokenTimeRange},
		{name: "JWT exp beyond year 9999 falls back to expires_in", ans: map[string]any{"access_token": oaJWTExp(1e18), "expires_in": 60},
			want: oaNow.Add(time.Minute)},
		{name: "jwt required", expiry: ExpiryJWT, ans: map[string]any{"access_token": "opaque", "expires_in": 30}, code: "bad_token"},
		{name: "refresh interval shortens a long JWT", every: 5 * time.Minute, ans: map[string]any{"access_token": jwt},
			want: oaNow.Add(5*time.Minute + 17*time.Second)},
		{name: "refresh interval never lengthens a token", every: 2 * time.Hour, ans: map[string]any{"access_token": jwt}},
		{name: "refresh interval without any expiry", every: time.Minute, ans: map[string]any{"access_token": "opaque"},
			want: oaNow.Add(time.Minute + 17*time.Second)},
		{name: "refresh interval with a shorter expires_in", every: time.Hour, ans: map[string]any{"access_token": "opaque", "expires_in": 60},
			want: oaNow.Add(time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) { oaJSON(w, 200, tc.ans) })
			o := oaTarget(t, srv, func(c *OAuth2Config) {
				c.Expiry, c.RefreshInterval, c.RefreshAhead = tc.expiry, tc.every, 17*time.Second
			})
			cr, out := o.Refresh(context.Background(), "u", "rt")
			if tc.code != "" {
				if out.Class != model.ClassOther || out.Code != tc.code {
					t.Fatalf("outcome %+v, want other/%s", out, tc.code)
				}
				return
			}
			if out.Class != model.ClassOK || !cr.ExpiresAt.Equal(tc.want) {
				t.Fatalf("outcome %+v, ExpiresAt %v, want %v", out, cr.ExpiresAt, tc.want)
			}
		})
	}
}

// TestOAuth2ErrorAnswers: the provider's refusals are classified apart:
// invalid_grant and a reused refresh token end the session; other 4xx do not.
func TestOAuth2ErrorAnswers(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		ctype    string
		header   map[string]string
		class    model.ErrorClass
		code     string
		lost     bool
		retryAft time.Duration
	}{
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`,
			class: model.ClassOther, code: CodeInvalidGrant, lost: true},
		{name: "Dex reuse answer", status: 400, body: `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`,
			class: model.ClassOther, code: CodeRefreshTokenReused, lost: true},
		{name: "invalid_grant reuse wording", status: 400, body: `{"error":"invalid_grant","error_description":"Refresh token reuse detected"}`,
			class: model.ClassOther, code: CodeRefreshTokenReused, lost: true},
		{name: "other 400", status: 400, body: `{"error":"invalid_request","error_description":"Missing required scope(s) [\"openid\"]."}`,
			class: model.ClassOther, code: "invalid_request"},
		{name: "invalid_scope", status: 400, body: `{"error":"invalid_scope"}`, class: model.ClassOther, code: "invalid_scope"},
		{name: "invalid_client 401", status: 401, body: `{"error":"invalid_client"}`, class: model.Class401, code: "invalid_client", lost: true},
		{name: "error answered 200", status: 200, body: `{"error":"invalid_grant"}`, class: model.ClassOther, code: CodeInvalidGrant, lost: true},
		{name: "429 with Retry-After", status: 429, body: `{"error":"slow_down"}`, header: map[string]string{"Retry-After": "7"},
			class: model.Class429, code: "slow_down", retryAft: 7 * time.Second},
		{name: "503 HTML page", status: 503, body: "<html><body>Service Unavailable</body></html>", ctype: "text/html",
			class: model.Class5xx, code: CodeHTMLBody},
		{name: "404 HTML without content type", status: 404, body: "  <!DOCTYPE html><p>not found", class: model.ClassOther, code: CodeHTMLBody, lost: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			_, out := oaTarget(t, srv, nil).Refresh(context.Background(), "u", "rt")
			if out.Class != tc.class || out.Code != tc.code || out.RetryAfter != tc.retryAft {
				t.Fatalf("outcome %+v, want class %s code %q retry-after %s", out, tc.class, tc.code, tc.retryAft)
			}
			if tc.code == CodeRefreshTokenReused && (out.Said == "" || out.Said == tc.code) {
				t.Errorf("reuse read as %s, but the server's own code %q is lost", out.Code, out.Said)
			}
			if got := model.SessionLost(out); got != tc.lost && tc.code != CodeRefreshTokenReused {
				t.Errorf("SessionLost = %v, want %v", got, tc.lost)
			}
		})
	}
}

// TestOAuth2Garbage: whatever a server sends, the answer is classified and
// nothing hangs past the request's deadline or panics (issue 6, item 6).
func TestOAuth2Garbage(t *testing.T) {
	// release ends the handlers that stall; each subtest closes its own
	// before its server closes.
	var release chan struct{}
	stall := func(r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server sees the client go
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		class   model.ErrorClass
		code    string
	}{
		{name: "HTML page with 200", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html><body>Please log in</body></html>"))
		}, class: model.ClassOther, code: CodeHTMLBody},
		{name: "200 without a token", handler: func(w http.ResponseWriter, r *http.Request) {
			oaJSON(w, 200, map[string]any{"token_type": "bearer", "expires_in": 60})
		}, class: model.ClassOther, code: CodeNoToken},
		{name: "truncated JSON", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3`))
		}, class: model.ClassOther, code: CodeInvalidJSON},
		{name: "empty 200", handler: func(w http.ResponseWriter, r *http.Request) {}, class: model.ClassOther, code: CodeEmptyBody},
		{name: "JSON of the wrong shape", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`["access_token"]`))
		}, class: model.ClassOther, code: CodeInvalidJSON},
		{name: "huge body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"`))
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 40 { // 2.5 MiB, more than is read
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, class: model.ClassOther, code: CodeBodyTooLarge},
		{name: "slow body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":`))
			w.(http.Flusher).Flush()
			stall(r) // until the client gives up
		}, timeout: 100 * time.Millisecond, class: model.ClassTimeout},
		{name: "slow headers", handler: func(w http.ResponseWriter, r *http.Request) {
			stall(r)
		}, timeout: 100 * time.Millisecond, class: model.ClassTimeout},
		{name: "connection reset before the answer", handler: func(w http.ResponseWriter, r *http.Request) {
			reset(t, w)
		}, class: model.ClassNetwork},
		{name: "connection reset in the body", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, buf := hijack(t, w)
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"access_token\":\"abc")
			_ = buf.Flush()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		}, class: model.ClassNetwork},
		{name: "body shorter than Content-Length", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, buf := hijack(t, w)
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
			_ = buf.Flush()
			_ = conn.Close()
		}, class: model.ClassNetwork},
		{name: "not HTTP at all", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, buf := hijack(t, w)
			_, _ = buf.WriteString("SSH-2.0-OpenSSH_9.6\r\n")
			_ = buf.Flush()
			_ = conn.Close()
		}, class: model.ClassNetwork},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := oaServe(t, tc.handler)
			release = make(chan struct{})
			t.Cleanup(func() { close(release) }) // before srv.Close: cleanups run last first
			o := oaTarget(t, srv, nil)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			for _, call := range []struct {
				name string
				do   func() model.Outcome
			}{
				{"sign-in", func() model.Outcome { _, out := o.SignIn(ctx, "user-1"); return out }},
				{"refresh", func() model.Outcome { _, out := o.Refresh(ctx, "u", "rt"); return out }},
			} {
				if tc.timeout > 0 && call.name == "refresh" {
					continue // the deadline is spent
				}
				out := call.do()
				if out.Class != tc.class || out.Code != tc.code {
					t.Errorf("%s: outcome %+v, want class %s code %q", call.name, out, tc.class, tc.code)
				}
			}
		})
	}
}

// hijack takes over the connection of a test handler.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, interface {
	WriteString(string) (int, error)
	Flush() error
}) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	return conn, buf.Writer
}

// reset closes the handler's connection with a TCP RST.
func reset(t *testing.T, w http.ResponseWriter) {
	conn, _ := hijack(t, w)
	_ = conn.(*net.TCPConn).SetLinger(0)
	_ = conn.Close()
}

// TestOAuth2RacingRefreshes: two concurrent refreshes of one refresh token
// against a provider with rotation and reuse detection: one wins, the
// other is classified as refresh_token_reused.
func TestOAuth2RacingRefreshes(t *testing.T) {
	var mu sync.Mutex
	used := map[string]bool{}
	n := 0
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		rt := r.PostFormValue("refresh_token")
		mu.Lock()
		reused := used[rt]
		used[rt] = true
		n++
		next := fmt.Sprintf("rt-%d", n)
		mu.Unlock()
		if reused {
			oaJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "Refresh token is invalid or has already been claimed by another client."})
			return
		}
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": next})
	})
	o := oaTarget(t, srv, nil)
	var wg sync.WaitGroup
	outs := make([]model.Outcome, 2)
	for i := range outs {
		wg.Go(func() { _, outs[i] = o.Refresh(context.Background(), "u", "rt-0") })
	}
	wg.Wait()
	ok, reused := 0, 0
	for _, out := range outs {
		switch {
		case out.Class == model.ClassOK:
			ok++
		case out.Class == model.ClassOther && out.Status == 400 && out.Code == CodeRefreshTokenReused:
			reused++
		}
	}
	if ok != 1 || reused != 1 {
		t.Fatalf("outcomes %+v: want one ok and one refresh_token_reused", outs)
	}
}

func TestOAuth2StoredCredentials(t *testing.T) {
	var grants []string
	var mu sync.Mutex
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		grants = append(grants, r.PostFormValue("grant_type")+":"+r.PostFormValue("refresh_token")+r.PostFormValue("username"))
		mu.Unlock()
		if r.PostFormValue("refresh_token") == "dead" {
			oaJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": "new"})
	})
	creds := []StoredCredential{{RefreshToken: "a", Subject: "alice"}, {RefreshToken: "dead"}}
	o := oaTarget(t, srv, func(c *OAuth2Config) { c.Credentials = creds })
	cr, out := o.SignIn(context.Background(), "user-0")
	if out.Class != model.ClassOK || cr.SessionID != "alice" || cr.ClientToken != "new" {
		t.Fatalf("stored sign-in: %+v %+v", cr, out)
	}
	if _, out := o.SignIn(context.Background(), "user-1"); out.Code != CodeInvalidGrant {
		t.Fatalf("dead stored token: %+v", out)
	}
	// Spent: the next sign-in of client 0 is the password grant.
	if cr, out := o.SignIn(context.Background(), "user-0"); out.Class != model.ClassOK || cr.SessionID != "user0@example.com" {
		t.Fatalf("re-sign-in: %+v %+v", cr, out)
	}
	want := []string{"refresh_token:a", "refresh_token:dead", "password:user0@example.com"}
	if fmt.Sprint(grants) != fmt.Sprint(want) {
		t.Errorf("grants %v, want %v", grants, want)
	}

	only := oaTarget(t, srv, func(c *OAuth2Config) { c.Credentials, c.UserPattern = creds, "" })
	_, _ = only.SignIn(context.Background(), "user-0")
	if _, out := only.SignIn(context.Background(), "user-0"); out.Code != model.CodeCredentialsExhausted || only.CanSignIn(0) {
		t.Errorf("spent without users: %+v", out)
	}
	if _, out := only.SignIn(context.Background(), "user-5"); out.Code != model.CodeCredentialsExhausted || only.CanSignIn(5) || !only.CanSignIn(1) {
		t.Errorf("beyond the file: %+v", out)
	}
}

func TestOAuth2StoredCredentialSurvivesNetworkFailure(t *testing.T) {
	fail := true
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		if fail {
			w.WriteHeader(503)
			return
		}
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute))})
	})
	o := oaTarget(t, srv, func(c *OAuth2Config) {
		c.Credentials, c.UserPattern = []StoredCredential{{RefreshToken: "keep"}}, ""
	})
	if _, out := o.SignIn(context.Background(), "user-0"); out.Class != model.Class5xx {
		t.Fatalf("first: %+v", out)
	}
	fail = false
	cr, out := o.SignIn(context.Background(), "user-0")
	if out.Class != model.ClassOK || cr.ClientToken != "keep" || cr.SessionID != "credential-0" {
		t.Fatalf("retry after a 503 must use the stored token again: %+v %+v", cr, out)
	}
}

func TestOAuth2SignInNeedsRefreshToken(t *testing.T) {
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute))})
	})
	if _, out := oaTarget(t, srv, nil).SignIn(context.Background(), "user-1"); out.Code != CodeNoRefreshToken {
		t.Fatalf("outcome %+v", out)
	}
}

func TestOAuth2Users(t *testing.T) {
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {})
	o := oaTarget(t, srv, func(c *OAuth2Config) {
		c.Users = []OAuth2User{{"a", "1"}, {"b", "2"}}
	})
	if u, _ := o.User(3); u != (OAuth2User{"b", "2"}) {
		t.Errorf("User(3) = %+v", u)
	}
	p := oaTarget(t, srv, func(c *OAuth2Config) { c.UserPattern, c.UserOffset = "load-", 1 })
	// A pattern without a verb is one user for every client.
	if u0, _ := p.User(0); u0.Name != "load-" || u0.Password != "pw" {
		t.Errorf("pattern without a verb: %+v", u0)
	}
	if u5, _ := p.User(5); u5.Name != "load-" {
		t.Errorf("pattern without a verb, client 5: %+v", u5)
	}
	for id, want := range map[string]int{"user-0": 0, "user-42": 42, "7": 7} {
		if n, ok := ClientIndex(id); !ok || n != want {
			t.Errorf("ClientIndex(%q) = %d, %v", id, n, ok)
		}
	}
	if _, ok := ClientIndex("user-"); ok {
		t.Error("ClientIndex(user-) ok")
	}
}

func TestNewOAuth2Checks(t *testing.T) {
	base := OAuth2Config{TokenURL: "http://idp/token", ClientID: "c", UserPattern: "u%d"}
	for name, mod := range map[string]func(*OAuth2Config){
		"relative URL":   func(c *OAuth2Config) { c.TokenURL = "/token" },
		"auth method":    func(c *OAuth2Config) { c.AuthMethod = "jwt" },
		"expiry":         func(c *OAuth2Config) { c.Expiry = "never" },
		"no client id":   func(c *OAuth2Config) { c.ClientID = "" },
		"no first creds": func(c *OAuth2Config) { c.UserPattern = "" },
	} {
		c := base
		mod(&c)
		if _, err := NewOAuth2(c); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := NewOAuth2(base); err != nil {
		t.Fatal(err)
	}
}

func TestOAuth2Call(t *testing.T) {
	var auth string
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if auth != "Bearer good" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 2<<20)))
	})
	o := oaTarget(t, srv, nil)
	if out := o.Call(context.Background(), "bad"); out.Class != model.Class401 {
		t.Errorf("bad token: %+v", out)
	}
	if out := o.Call(context.Background(), "good"); out.Class != model.ClassOther || out.Code != CodeBodyTooLarge || auth != "Bearer good" {
		t.Errorf("huge answer: %+v (%q)", out, auth)
	}
	none := oaTarget(t, srv, func(c *OAuth2Config) { c.APIURL = "" })
	if out := none.Call(context.Background(), "good"); out.Code != "no_api" {
		t.Errorf("no api: %+v", out)
	}
}

func TestCredentialsAndUsersFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds.jsonl")
	var b strings.Builder
	_ = WriteCredential(&b, StoredCredential{RefreshToken: "r1", Subject: "u1"})
	b.WriteString("\n# comment\n")
	_ = WriteCredential(&b, StoredCredential{RefreshToken: "r2"})
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCredentialsFile(path)
	if err != nil || len(got) != 2 || got[0] != (StoredCredential{"r1", "u1"}) || got[1].RefreshToken != "r2" {
		t.Fatalf("got %+v, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	_ = os.WriteFile(bad, []byte("{\"refresh_token\":\"ok\"}\n{\"token\":\"x\"}\n{\"refresh_token\":\"\"}\nnot json\n"), 0o600)
	_, err = ReadCredentialsFile(bad)
	for _, want := range []string{"bad.jsonl:2:", "bad.jsonl:3: refresh_token is empty", "bad.jsonl:4:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	users := filepath.Join(dir, "users.txt")
	_ = os.WriteFile(users, []byte("alice\nbob:b:ob\n\n# x\n"), 0o600)
	us, err := ReadUsersFile(users, "shared")
	if err != nil || len(us) != 2 || us[0] != (OAuth2User{"alice", "shared"}) || us[1] != (OAuth2User{"bob", "b:ob"}) {
		t.Fatalf("users %+v, %v", us, err)
	}
}
