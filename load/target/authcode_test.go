package target

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// formProvider is an authorization server whose login is a plain HTML
// form behind a redirect and a session cookie, followed by a consent
// form, as Dex, Keycloak and Hydra's sample login work. It checks PKCE.
type formProvider struct {
	t        *testing.T
	redirect string

	mu       sync.Mutex
	pending  map[string]url.Values // login request id → the authorize query
	codes    map[string]url.Values // code → the authorize query
	logins   int
	tokens   int
	refused  int
	lastForm url.Values
}

func newFormProvider(t *testing.T) *formProvider {
	return &formProvider{t: t, redirect: "http://127.0.0.1/callback", pending: map[string]url.Values{}, codes: map[string]url.Values{}}
}

const loginPage = `<!DOCTYPE html><html><head><title>Log in</title>
<script>if (a < b) { document.write("<form action='/evil'><input type=password name=x></form>") }</script>
<style>form > input { color: red }</style></head>
<body><!-- <form action="/commented"><input type="password" name="nope"></form> -->
<form id=search action="/search"><input name=q type=search></form>
<form method="POST" action="/login?req=%s&amp;back=">
  <input type="hidden" name="req" value="%s">
  <label>Email <input type=email name='login' autocomplete=username></label>
  <input type="password" name="password">
  <input type="checkbox" name="remember" value="1">
  <input type="text" name="disabled_one" value="x" disabled>
  <button type="submit" name="action" value="login">Log in</button>
</form></body></html>`

const consentPage = `<html><body><form method="post" action="/consent">
<input type="hidden" name="req" value="%s"><button type="submit" name="approval" value="approve">Grant</button>
<button type="submit" name="approval" value="rejected">Deny</button></form></body></html>`

func (p *formProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.URL.Path {
	case "/authorize":
		q := r.URL.Query()
		if q.Get("redirect_uri") != p.redirect || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
			http.Error(w, "bad authorize request", 400)
			return
		}
		id := fmt.Sprintf("req%d", len(p.pending))
		p.pending[id] = q
		http.SetCookie(w, &http.Cookie{Name: "sess", Value: id, Path: "/"})
		http.Redirect(w, r, "/login?req="+id, http.StatusFound)
	case "/login":
		id := r.URL.Query().Get("req")
		c, err := r.Cookie("sess")
		if err != nil || c.Value != id || p.pending[id] == nil {
			http.Error(w, "no session", 400)
			return
		}
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, loginPage, id, id)
			return
		}
		_ = r.ParseForm()
		p.lastForm = r.PostForm
		if r.PostForm.Get("password") != "pw" || r.PostForm.Get("req") != id {
			p.refused++
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, loginPage, id, id)
			return
		}
		p.logins++
		http.Redirect(w, r, "/consent?req="+id, http.StatusSeeOther)
	case "/consent":
		id := r.URL.Query().Get("req")
		if r.Method == http.MethodGet {
			fmt.Fprintf(w, consentPage, html.EscapeString(id))
			return
		}
		_ = r.ParseForm()
		id = r.PostForm.Get("req")
		q := p.pending[id]
		if q == nil || r.PostForm.Get("approval") != "approve" {
			http.Error(w, "not approved", 400)
			return
		}
		code := "code-" + id
		p.codes[code] = q
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusSeeOther)
	case "/token":
		_ = r.ParseForm()
		q := p.codes[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("grant_type") != "authorization_code" || q == nil || r.PostForm.Get("redirect_uri") != p.redirect ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
			oaJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(p.codes, r.PostForm.Get("code")) // single use
		p.tokens++
		oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": "rt-" + r.PostForm.Get("code"), "expires_in": 60})
	default:
		http.NotFound(w, r)
	}
}

// TestCodeGrantThroughTheLoginForm: the authorization-code grant with
// PKCE through a login form behind a redirect and a cookie, then a consent
// form: the right form is filled (not the one in a script or a comment),
// nothing listens at the redirect URI, and the code is exchanged with its
// verifier. A wrong password is login_refused.
func TestCodeGrantThroughTheLoginForm(t *testing.T) {
	p := newFormProvider(t)
	srv := oaServe(t, p.ServeHTTP)
	o := oaTarget(t, srv, nil)
	flow := CodeFlow{AuthorizeURL: srv.URL + "/authorize", RedirectURI: p.redirect}
	cr, out := o.CodeGrant(context.Background(), flow, OAuth2User{Name: "alice@example.com", Password: "pw"})
	if out.Class != model.ClassOK || !strings.HasPrefix(cr.ClientToken, "rt-code-") || cr.SessionID != "alice@example.com" {
		t.Fatalf("code grant: %+v %+v", cr, out)
	}
	p.mu.Lock()
	form := p.lastForm
	p.mu.Unlock()
	if form.Get("login") != "alice@example.com" || form.Get("action") != "login" || form.Has("remember") || form.Has("disabled_one") {
		t.Errorf("submitted form %v", form)
	}
	_, out = o.CodeGrant(context.Background(), flow, OAuth2User{Name: "alice@example.com", Password: "wrong"})
	if out.Code != CodeLoginRefused || out.Status != 401 {
		t.Errorf("wrong password: %+v", out)
	}
	_, out = o.CodeGrant(context.Background(), CodeFlow{AuthorizeURL: srv.URL + "/nothing", RedirectURI: p.redirect}, OAuth2User{Name: "a", Password: "pw"})
	if out.Class == model.ClassOK || out.Status != 404 {
		t.Errorf("no authorize endpoint: %+v", out)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logins != 1 || p.tokens != 1 || p.refused != 1 {
		t.Errorf("logins %d, tokens %d, refused %d", p.logins, p.tokens, p.refused)
	}
}

func TestParseFormsReadsAttributes(t *testing.T) {
	forms := parseForms([]byte(`<FORM Method=post ACTION='/a?x=1&amp;y=&quot;2&quot;'><Input TYPE=Password name=pw value=""/><input name=u value="a&lt;b"></form><input name=outside>`))
	if len(forms) != 1 || forms[0].Method != "POST" || forms[0].Action != `/a?x=1&y="2"` {
		t.Fatalf("forms %+v", forms)
	}
	f := forms[0].Fields
	if len(f) != 2 || f[0].Type != "password" || f[1].Value != "a<b" || f[1].Type != "text" {
		t.Errorf("fields %+v", f)
	}
}

// TestDeviceGrantPolls: the verification URL is told once; polling keeps
// the interval, 5 s slower after slow_down, until the user approves.
func TestDeviceGrantPolls(t *testing.T) {
	var mu sync.Mutex
	polls := 0
	srv := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/device/code":
			if r.PostForm.Get("client_id") != "stampede" || r.PostForm.Get("scope") != "openid offline_access" {
				oaJSON(w, 400, map[string]string{"error": "invalid_request"})
				return
			}
			oaJSON(w, 200, map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://idp/device",
				"expires_in": 600, "interval": 2})
		case "/token":
			if r.PostForm.Get("grant_type") != DeviceGrantType || r.PostForm.Get("device_code") != "dc" {
				oaJSON(w, 400, map[string]string{"error": "invalid_grant"})
				return
			}
			polls++
			switch polls {
			case 1, 3:
				oaJSON(w, 400, map[string]string{"error": "authorization_pending"})
			case 2:
				oaJSON(w, 400, map[string]string{"error": "slow_down"})
			default:
				oaJSON(w, 200, map[string]any{"access_token": oaJWT(oaNow, oaNow.Add(time.Minute)), "refresh_token": "rt-device"})
			}
		}
	})
	o := oaTarget(t, srv, nil)
	var waits []time.Duration
	var prompts []DevicePrompt
	flow := DeviceFlow{DeviceAuthorizationURL: srv.URL + "/device/code",
		Prompt: func(p DevicePrompt) { prompts = append(prompts, p) },
		Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	cr, out := o.DeviceGrant(context.Background(), flow)
	if out.Class != model.ClassOK || cr.ClientToken != "rt-device" {
		t.Fatalf("device grant: %+v %+v", cr, out)
	}
	if len(prompts) != 1 || prompts[0].UserCode != "ABCD-EFGH" || prompts[0].VerificationURI != "https://idp/device" {
		t.Errorf("prompts %+v", prompts)
	}
	if want := []time.Duration{2 * time.Second, 2 * time.Second, 7 * time.Second, 7 * time.Second}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	// Denied: the provider's code, at once.
	mu.Lock()
	polls = -100
	mu.Unlock()
	srvDenied := oaServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/device/code" {
			oaJSON(w, 200, map[string]any{"device_code": "dc", "user_code": "X", "verification_uri": "https://idp/device"})
			return
		}
		oaJSON(w, 400, map[string]string{"error": "access_denied"})
	})
	od := oaTarget(t, srvDenied, nil)
	flow.DeviceAuthorizationURL = srvDenied.URL + "/device/code"
	waits = nil
	if _, out := od.DeviceGrant(context.Background(), flow); out.Code != "access_denied" || len(waits) != 1 || waits[0] != 5*time.Second {
		t.Errorf("denied: %+v, waits %v (want one of the default 5 s)", out, waits)
	}
}
