package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/transport"
)

// HTTPRequestSpec is one request template of an HTTPTarget: URL, each
// header's value and Body are Go templates over HTTPVars, with the
// functions json (v as a JSON value) and env (an environment variable).
type HTTPRequestSpec struct {
	Method  string   // default POST (GET for the API)
	URL     string   // absolute once rendered
	Headers []string // "Name: value"
	Body    string
}

// HTTPResponseSpec says where sign-in and refresh answers carry what the
// client keeps: a JSON path into the body ("data.token"; numbers index
// lists) or "header:Name".
type HTTPResponseSpec struct {
	Token        string // required
	RefreshToken string // "": the client refreshes with its session token
	SessionID    string // "": the user, else "client-<i>"
	ExpiresIn    string // seconds; used when Token is not a JWT with exp
	ExpiresAt    string // Unix seconds; likewise
}

// HTTPVars are the variables of an HTTPTarget's templates.
type HTTPVars struct {
	Index        int    // the client's number (sign-in)
	User         string // its user (sign-in), from the target's users
	Password     string // and password
	SessionID    string // refresh, from the sign-in answer
	RefreshToken string // refresh: the newest refresh token
	Token        string // API: the session token
}

// HTTPTargetConfig configures a custom HTTP target.
type HTTPTargetConfig struct {
	SignIn, Refresh, API HTTPRequestSpec
	// APIURL is called with GET and the token as bearer when API has no URL.
	APIURL   string
	Response HTTPResponseSpec
	// User gives client i's user for the sign-in template; nil: none.
	User func(i int) (OAuth2User, bool)
	// Getenv reads the environment for env; nil is no environment.
	Getenv func(string) (string, bool)
	Client *http.Client
	Now    func() time.Time
}

type httpHeader struct {
	name  string
	value *template.Template
}

type httpRequest struct {
	method  string
	url     *template.Template
	headers []httpHeader
	body    *template.Template
}

// HTTPTarget is a custom HTTP API as a stampede target, described by
// request templates and where the answers carry the tokens. It implements
// Authenticator and Resource.
type HTTPTarget struct {
	cfg                  HTTPTargetConfig
	signIn, refresh, api *httpRequest
}

// NewHTTPTarget compiles cfg's templates and renders each once, so that a
// template that cannot work (a syntax error, an unset environment
// variable) is an error now rather than on every request.
func NewHTTPTarget(cfg HTTPTargetConfig) (*HTTPTarget, error) {
	if cfg.Response.Token == "" {
		return nil, errors.New("http target: no response token path")
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	funcs := template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"env": func(name string) (string, error) {
			if v, ok := getenv(name); ok {
				return v, nil
			}
			return "", fmt.Errorf("the environment variable %s is not set", name)
		},
	}
	h := &HTTPTarget{cfg: cfg}
	var errs []error
	compile := func(what string, spec HTTPRequestSpec, method string) *httpRequest {
		if spec.URL == "" {
			return nil
		}
		r := &httpRequest{method: method}
		if spec.Method != "" {
			r.method = strings.ToUpper(spec.Method)
		}
		parse := func(part, text string) *template.Template {
			t, err := template.New(what + " " + part).Funcs(funcs).Parse(text)
			if err == nil {
				err = t.Execute(&bytes.Buffer{}, HTTPVars{})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("http target: %s %s: %w", what, part, err))
			}
			return t
		}
		r.url = parse("url", spec.URL)
		r.body = parse("body", spec.Body)
		for _, line := range spec.Headers {
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				errs = append(errs, fmt.Errorf("http target: %s header %q: want \"Name: value\"", what, line))
				continue
			}
			r.headers = append(r.headers, httpHeader{name: strings.TrimSpace(name), value: parse("header "+strings.TrimSpace(name), strings.TrimSpace(value))})
		}
		return r
	}
	h.signIn = compile("sign-in", cfg.SignIn, http.MethodPost)
	h.refresh = compile("refresh", cfg.Refresh, http.MethodPost)
	h.api = compile("api", cfg.API, http.MethodGet)
	if h.signIn == nil || h.refresh == nil {
		errs = append(errs, errors.New("http target: sign-in and refresh requests need a URL"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// render builds the request r describes for vars.
func (r *httpRequest) render(ctx context.Context, vars HTTPVars) (*http.Request, error) {
	var u, body bytes.Buffer
	if err := r.url.Execute(&u, vars); err != nil {
		return nil, err
	}
	if err := r.body.Execute(&body, vars); err != nil {
		return nil, err
	}
	var rd *bytes.Reader
	if body.Len() > 0 {
		rd = bytes.NewReader(body.Bytes())
	}
	req, err := newRequest(ctx, r.method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for _, hd := range r.headers {
		var v bytes.Buffer
		if err := hd.value.Execute(&v, vars); err != nil {
			return nil, err
		}
		req.Header.Set(hd.name, v.String())
	}
	if body.Len() > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// SignIn renders the sign-in request for the client and reads the tokens
// from the answer.
func (h *HTTPTarget) SignIn(ctx context.Context, identifier string) (Credentials, model.Outcome) {
	i, _ := ClientIndex(identifier)
	vars := HTTPVars{Index: i}
	if h.cfg.User != nil {
		if u, ok := h.cfg.User(i); ok {
			vars.User, vars.Password = u.Name, u.Password
		}
	}
	cr, out := h.do(ctx, h.signIn, vars, true)
	if out.Class != model.ClassOK {
		return Credentials{}, out
	}
	if cr.SessionID == "" {
		cr.SessionID = vars.User
	}
	if cr.SessionID == "" {
		cr.SessionID = "client-" + strconv.Itoa(i)
	}
	return cr, out
}

// Refresh renders the refresh request with the client's session and
// newest refresh token; a refresh token in the answer rotates it.
func (h *HTTPTarget) Refresh(ctx context.Context, sessionID, refreshToken string) (Credentials, model.Outcome) {
	cr, out := h.do(ctx, h.refresh, HTTPVars{SessionID: sessionID, RefreshToken: refreshToken}, false)
	if out.Class != model.ClassOK {
		return Credentials{}, out
	}
	cr.SessionID = sessionID
	return cr, out
}

// Call renders the API request with the session token (or GETs APIURL
// with it as bearer).
func (h *HTTPTarget) Call(ctx context.Context, token string) model.Outcome {
	if h.api == nil {
		if h.cfg.APIURL == "" {
			return model.Outcome{Class: model.ClassOther, Code: "no_api"}
		}
		return CallBearer(ctx, h.cfg.Client, h.cfg.APIURL, token)
	}
	req, err := h.api.render(ctx, HTTPVars{Token: token})
	if err != nil {
		return model.Outcome{Class: model.ClassOther, Code: "bad_template"}
	}
	setCallID(req)
	_, _, out, _ := exchange(ctx, h.cfg.Client, req)
	return out
}

// do sends one sign-in or refresh and reads the answer.
func (h *HTTPTarget) do(ctx context.Context, r *httpRequest, vars HTTPVars, signIn bool) (Credentials, model.Outcome) {
	req, err := r.render(ctx, vars)
	if err != nil {
		return Credentials{}, model.Outcome{Class: model.ClassOther, Code: "bad_template"}
	}
	resp, body, out, done := exchange(ctx, h.cfg.Client, req)
	if done {
		return Credentials{}, out
	}
	var doc any
	jsonErr := json.Unmarshal(body, &doc)
	if out.Class != model.ClassOK {
		switch {
		case jsonErr == nil:
			if c := errorCodeOf(doc); c != "" {
				out.Code = c
				if m, ok := doc.(map[string]any); ok && c == CodeRefreshTokenReused {
					out.Said = serverCodeOf(m) // what the breakdown counts
				}
			}
		case out.Code == "" && isHTML(resp, body):
			out.Code = CodeHTMLBody
		}
		return Credentials{}, out
	}
	if h.needsBody() {
		if bad := garbage(resp, body, jsonErr); bad != "" {
			return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: bad, Body: transport.BodyHead(body)}
		}
	}
	get := func(path string) (string, bool) { return lookup(resp, doc, path) }
	token, ok := get(h.cfg.Response.Token)
	if !ok || token == "" {
		code := CodeNoToken
		if c := errorCodeOf(doc); c != "" {
			code = c
		}
		return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: code}
	}
	cr := Credentials{Token: token}
	if p := h.cfg.Response.RefreshToken; p != "" {
		cr.ClientToken, _ = get(p)
		if signIn && cr.ClientToken == "" {
			return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: CodeNoRefreshToken}
		}
	} else {
		cr.ClientToken = token // refreshes send the newest session token
	}
	if p := h.cfg.Response.SessionID; p != "" && signIn {
		cr.SessionID, _ = get(p)
	}
	if _, err := model.ParseTokenTimes(token); err != nil {
		exp, ok := h.expiry(get)
		if !ok {
			return Credentials{}, model.Outcome{Class: model.ClassOther, Status: out.Status, Code: CodeNoExpiry}
		}
		cr.ExpiresAt = exp
	}
	return cr, out
}

// needsBody reports whether any response path reads the body.
func (h *HTTPTarget) needsBody() bool {
	r := h.cfg.Response
	for _, p := range []string{r.Token, r.RefreshToken, r.SessionID, r.ExpiresIn, r.ExpiresAt} {
		if p != "" && !strings.HasPrefix(p, "header:") {
			return true
		}
	}
	return false
}

// expiry reads expires_in or expires_at from an answer; a value that is
// not a positive number, or names an instant past year 9999, is none.
func (h *HTTPTarget) expiry(get func(string) (string, bool)) (time.Time, bool) {
	if p := h.cfg.Response.ExpiresIn; p != "" {
		if v, ok := get(p); ok {
			if secs, err := strconv.ParseFloat(v, 64); err == nil {
				if exp, ok := model.ExpiresAfter(h.cfg.Now(), secs); ok {
					return exp, true
				}
			}
		}
	}
	if p := h.cfg.Response.ExpiresAt; p != "" {
		if v, ok := get(p); ok {
			if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && model.InTokenRange(secs) {
				return model.FromSeconds(secs), true
			}
		}
	}
	return time.Time{}, false
}

// lookup reads path from an answer: "header:Name", or a JSON path into doc.
func lookup(resp *http.Response, doc any, path string) (string, bool) {
	if name, ok := strings.CutPrefix(path, "header:"); ok {
		v := resp.Header.Get(strings.TrimSpace(name))
		return v, v != ""
	}
	cur := doc
	for key := range strings.SplitSeq(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			cur = node[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// errorCodeOf finds an error code in a JSON answer: OAuth 2.0's "error"
// (a reused token told apart by its description), a top-level "code", or
// the embedded backend's errors[0].code.
func errorCodeOf(doc any) string {
	m, ok := doc.(map[string]any)
	if !ok {
		return ""
	}
	for _, k := range []string{"error_description", "message"} {
		if s, ok := m[k].(string); ok && DefaultReusePattern.MatchString(s) {
			return CodeRefreshTokenReused
		}
	}
	return serverCodeOf(m)
}

// serverCodeOf is the error code a JSON error answer m carries itself:
// "error", a top-level "code", or errors[0].code; "" when none.
func serverCodeOf(m map[string]any) string {
	for _, k := range []string{"error", "code"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s[:min(len(s), 64)]
		}
	}
	if list, ok := m["errors"].([]any); ok && len(list) > 0 {
		if e, ok := list[0].(map[string]any); ok {
			if s, ok := e["code"].(string); ok {
				return s[:min(len(s), 64)]
			}
		}
	}
	return ""
}
