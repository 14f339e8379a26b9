package target

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
)

// oauth2Target is a profile of an oauth2 target at url with clients users.
func oauth2Target(url string, clients int) profiles.Profile {
	p := profiles.Default()
	p.Clients = clients
	p.Duration = profiles.Duration(time.Minute)
	p.App.APICallsPerMinute = 0
	p.Target = profiles.Target{Kind: profiles.TargetOAuth2, URL: url, TokenEndpoint: "/token", ClientID: "c", ClientSecret: "s",
		Users: profiles.Users{Pattern: "user%d", Password: "pw"}}
	return p
}

// tokenJWT is an unsigned JWT that expires after life.
func tokenJWT(life time.Duration) string {
	enc := base64.RawURLEncoding.EncodeToString
	now := time.Now()
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"u","iat":%d,"exp":%d}`, now.Unix(), now.Add(life).Unix())) + ".x"
}

// The token endpoint's check: only an OAuth 2.0 error refusing the
// made-up grant passes; each failure names the URL, the status and code.
func TestProbeTokenEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		ok     bool
		want   string
	}{
		{"invalid_grant 400", 400, "application/json", `{"error":"invalid_grant"}`, true, ""},
		{"invalid_grant 401", 401, "application/json", `{"error":"invalid_grant","error_description":"bad"}`, true, ""},
		{"Dex's reuse wording", 400, "application/json", `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`, true, ""},
		{"404 page", 404, "text/html", `<html>not found</html>`, false, "answered 404 html_body"},
		{"405", 405, "text/plain", ``, false, "answered 405"},
		{"400 without an error", 400, "application/json", `{"message":"bad"}`, false, "answered 400"},
		{"a made-up token accepted", 200, "application/json", `{"access_token":"` + tokenJWT(time.Hour) + `","expires_in":60}`, false, "accepted a made-up refresh token"},
		{"the client refused", 401, "application/json", `{"error":"invalid_client"}`, false, "refused the client itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				if r.PostForm.Get("refresh_token") != PreflightInvalidToken {
					t.Errorf("probe sent refresh_token %q", r.PostForm.Get("refresh_token"))
				}
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			oa, err := NewOAuth2(OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "c", ClientSecret: "s", UserPattern: "u%d"})
			if err != nil {
				t.Fatal(err)
			}
			err = oa.ProbeTokenEndpoint(context.Background())
			if tc.ok {
				if err != nil {
					t.Fatalf("probe failed: %v", err)
				}
				return
			}
			var pe *PreflightError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), srv.URL+"/token") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v; want a pre-flight error naming %s/token and %q", err, srv.URL, tc.want)
			}
		})
	}
}

// The canary is the first client's sign-in: Open makes it, the run's first
// sign-in of that client gets its answer without a request, later ones go
// to the target. A failing canary stops Open naming the sign-in URL.
func TestOpenSignsTheFirstClientInAsACanary(t *testing.T) {
	var passwordGrants atomic.Int64
	fail := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "password" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		passwordGrants.Add(1)
		if fail.Load() {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"wrong password"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"rt-%s","expires_in":60}`, tokenJWT(time.Minute), r.PostForm.Get("username"))
	}))
	defer srv.Close()
	p := oauth2Target(srv.URL, 3)
	tg, err := Open(context.Background(), p, Options{Client: srv.Client(), FirstClient: 1})
	if err != nil {
		t.Fatal(err)
	}
	if passwordGrants.Load() != 1 {
		t.Fatalf("%d password grants by the pre-flight, want 1", passwordGrants.Load())
	}
	cr, out := tg.Auth.SignIn(context.Background(), "user-1")
	if out.Class != model.ClassOK || cr.ClientToken != "rt-user1" || passwordGrants.Load() != 1 {
		t.Fatalf("first sign-in of the canary's client: %+v %+v after %d grants; want the canary's, no request", cr, out, passwordGrants.Load())
	}
	if _, out := tg.Auth.SignIn(context.Background(), "user-1"); out.Class != model.ClassOK || passwordGrants.Load() != 2 {
		t.Errorf("second sign-in: %+v after %d grants, want a request", out, passwordGrants.Load())
	}
	if lt := tg.Report.TokenLifetimeS; lt < 55 || lt > 60 {
		t.Errorf("token lifetime %v s, want about 60", lt)
	}

	fail.Store(true)
	_, err = Open(context.Background(), p, Options{Client: srv.Client()})
	var pe *PreflightError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "the first sign-in (client 0): "+srv.URL+"/token answered 401 invalid_grant") {
		t.Fatalf("err %v; want the canary's 401 invalid_grant named", err)
	}
	before := passwordGrants.Load()
	if _, err := Open(context.Background(), p, Options{Client: srv.Client(), SkipPreflight: true}); err != nil || passwordGrants.Load() != before {
		t.Errorf("--skip-preflight: err %v, %d requests", err, passwordGrants.Load()-before)
	}
}

// Warnings before the run: one user for every client, a stale window
// longer than the refresh ahead, and tokens that outlive the run, the
// latter naming target.refresh_interval.
func TestOpenWarnsAboutProfilesThatSurprise(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "password" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		// Opaque tokens living 2 h, as some providers mint them.
		fmt.Fprint(w, `{"access_token":"opaque","refresh_token":"rt","expires_in":7200}`)
	}))
	defer srv.Close()
	p := oauth2Target(srv.URL, 50)
	p.Target.Users.Pattern = "test"
	p.SDK.StaleWindow = profiles.Duration(30 * time.Second)
	p.SDK.RefreshAhead = profiles.Duration(10 * time.Second)
	var warn bytes.Buffer
	tg, err := Open(context.Background(), p, Options{Client: srv.Client(), Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`target.users.pattern "test" has no %d: all 50 clients sign in as that one user`,
		"sdk.stale_window (30s) is longer than sdk.refresh_ahead (10s)",
		"the session tokens live 2h0m0s (the first sign-in's)",
		"set target.refresh_interval",
	} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings %q lack %q", warn.String(), want)
		}
	}
	if u, _ := tg.Auth.(*canary).Authenticator.(*OAuth2).User(7); u.Name != "test" {
		t.Errorf("client 7 signs in as %q, want the one user test", u.Name)
	}

	// With a refresh interval, clients refresh: no lifetime warning.
	p.Target.RefreshInterval = profiles.Duration(time.Minute)
	warn.Reset()
	if _, err := Open(context.Background(), p, Options{Client: srv.Client(), Warn: &warn}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(warn.String(), "no client will refresh") {
		t.Errorf("warned with a refresh interval: %s", warn.String())
	}
}
