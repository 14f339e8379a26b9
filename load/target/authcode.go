package target

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/stampede-load/stampede/load/model"
)

// Outcome codes of the authorization-code flow (CodeGrant).
const (
	// CodeNoLoginForm: a page of the login held no form with a password
	// field, and no way on (the provider's login is not a plain form).
	CodeNoLoginForm = "no_login_form"
	// CodeLoginRefused: the login form came back after it was submitted
	// (a wrong user or password).
	CodeLoginRefused = "login_refused"
	// CodeNoCode: the redirect to the redirect URI carried no code.
	CodeNoCode = "no_code"
	// CodeStateMismatch: the redirect's state is not the one sent.
	CodeStateMismatch = "state_mismatch"
	// CodeTooManyRedirects: the login did not reach the redirect URI in
	// maxLoginSteps pages and redirects.
	CodeTooManyRedirects = "too_many_redirects"
)

// maxLoginSteps bounds the pages and redirects of one login.
const maxLoginSteps = 30

// CodeFlow configures CodeGrant.
type CodeFlow struct {
	// AuthorizeURL is the authorization endpoint, absolute.
	AuthorizeURL string
	// RedirectURI is the client's registered redirect URI. Nothing needs
	// to listen there: the login stops at the redirect to it and takes
	// the code from its query.
	RedirectURI string
}

// CodeGrant signs u in with the authorization-code grant and PKCE (RFC
// 6749 §4.1, RFC 7636, S256), as a browser would through a provider whose
// login page is a plain HTML form: it GETs the authorization URL, follows
// redirects (keeping cookies) to the login form, fills in the user and
// password and submits it, submits a consent form with no password field
// if one follows, follows redirects until one points at the redirect URI,
// takes the code from it and exchanges it, with the code verifier, at the
// token endpoint. The answer must carry a refresh token.
func (o *OAuth2) CodeGrant(ctx context.Context, flow CodeFlow, u OAuth2User) (Credentials, model.Outcome) {
	verifier := randomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	state := randomToken(16)
	q := url.Values{"response_type": {"code"}, "client_id": {o.cfg.ClientID}, "redirect_uri": {flow.RedirectURI},
		"state": {state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if o.cfg.Scope != "" {
		q.Set("scope", o.cfg.Scope)
	}
	start, err := url.Parse(flow.AuthorizeURL)
	if err != nil {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	aq := start.Query()
	for k, v := range q {
		aq[k] = v
	}
	start.RawQuery = aq.Encode()
	redirect, err := url.Parse(flow.RedirectURI)
	if err != nil {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: "bad_request"}
	}
	code, out := o.login(ctx, start, redirect, state, u)
	if out.Class != model.ClassOK {
		return Credentials{}, out
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flow.RedirectURI}, "code_verifier": {verifier}}
	return o.grant(ctx, form, u.Name)
}

// login drives the provider's pages from start to the redirect to
// redirect and returns the code it carries.
func (o *OAuth2) login(ctx context.Context, start, redirect *url.URL, state string, u OAuth2User) (string, model.Outcome) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Transport: o.cfg.Client.Transport, Jar: jar, Timeout: o.cfg.Client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	method, next, body := http.MethodGet, start, ""
	submitted := false
	for range maxLoginSteps {
		if sameEndpoint(next, redirect) {
			return codeFrom(next.Query(), state)
		}
		req, err := http.NewRequestWithContext(ctx, method, next.String(), strings.NewReader(body))
		if err != nil {
			return "", model.Outcome{Class: model.ClassOther, Code: "bad_request"}
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, page, out, done := exchange(ctx, hc, req)
		if done {
			return "", out
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			to, err := next.Parse(loc)
			if err != nil {
				return "", model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: "bad_redirect"}
			}
			method, next, body = http.MethodGet, to, ""
			continue
		}
		forms := parseForms(page)
		f, vals, isLogin := loginForm(forms, u.Name, u.Password)
		if resp.StatusCode != http.StatusOK {
			if isLogin && submitted { // some providers answer a refused login 401 with the form again
				return "", model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: CodeLoginRefused}
			}
			if out.Class == model.ClassOK {
				out.Class = model.ClassOther
			}
			return "", out
		}
		switch {
		case isLogin && submitted:
			return "", model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: CodeLoginRefused}
		case isLogin:
			submitted = true
		case submitted && len(forms) > 0:
			f, vals = forms[0], fillForm(forms[0], nil) // a consent page: approve
		default:
			return "", model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: CodeNoLoginForm}
		}
		action, err := next.Parse(f.Action)
		if err != nil {
			return "", model.Outcome{Class: model.ClassOther, Status: resp.StatusCode, Code: CodeNoLoginForm}
		}
		enc := url.Values{}
		for _, kv := range vals {
			enc.Add(kv[0], kv[1])
		}
		if f.Method == http.MethodPost {
			method, next, body = http.MethodPost, action, enc.Encode()
		} else {
			action.RawQuery = enc.Encode()
			method, next, body = http.MethodGet, action, ""
		}
	}
	return "", model.Outcome{Class: model.ClassOther, Code: CodeTooManyRedirects}
}

// sameEndpoint reports whether u is the redirect URI r (its scheme, host
// and path; the query is the provider's answer).
func sameEndpoint(u, r *url.URL) bool {
	return strings.EqualFold(u.Scheme, r.Scheme) && strings.EqualFold(u.Host, r.Host) &&
		strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(r.Path, "/")
}

// codeFrom reads the authorization response (RFC 6749 §4.1.2): the code,
// or the provider's error as the outcome code.
func codeFrom(q url.Values, state string) (string, model.Outcome) {
	if e := q.Get("error"); e != "" {
		if len(e) > 64 {
			e = e[:64]
		}
		return "", model.Outcome{Class: model.ClassOther, Code: e}
	}
	if q.Get("state") != state {
		return "", model.Outcome{Class: model.ClassOther, Code: CodeStateMismatch}
	}
	code := q.Get("code")
	if code == "" {
		return "", model.Outcome{Class: model.ClassOther, Code: CodeNoCode}
	}
	return code, model.Outcome{Class: model.ClassOK}
}

// randomToken is n random bytes, base64url without padding (a PKCE code
// verifier of 32 bytes is 43 characters, RFC 7636 §4.1).
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
