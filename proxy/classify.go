package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// PreflightRefreshToken is the made-up refresh token of stampede run's
// pre-flight probe of an OAuth 2.0 token endpoint (docs/targets.md#pre-flight):
// the proxy passes that request on without counting it. It equals
// load/target.PreflightInvalidToken (a test in cmd/stampede holds them equal).
const PreflightRefreshToken = "stampede-preflight-invalid-refresh-token"

// Kind is what a request through the proxy is, by the profile's target.
type Kind int

// Request kinds.
const (
	KindOther Kind = iota
	KindSignIn
	KindRefresh
	KindAPI
)

// String names the kind as result.json's operations do.
func (k Kind) String() string {
	switch k {
	case KindSignIn:
		return "sign_in"
	case KindRefresh:
		return "refresh"
	case KindAPI:
		return "api"
	}
	return "other"
}

// request is what the classifier read from one request: its kind, and
// the tokens and session it names (hashed by the fleet, never kept).
type request struct {
	kind Kind
	// sid is the session named by the path (a Frontend-API refresh).
	sid string
	// bearer is the Authorization bearer token; presented the refresh or
	// client token a refresh presents.
	bearer    string
	presented string
}

// answer is what a sign-in or refresh answer issued.
type answer struct {
	access, refresh, sid string
}

// Classifier tells sign-ins, refreshes and API calls apart by the
// profile's target kind (docs/targets.md), and reads the tokens their
// answers issue.
type Classifier struct {
	kind string
	// oauth2: the token endpoint's path; every kind: the API's path prefix;
	// fapi: the path of target.url the endpoints sit under.
	tokenPath, apiPrefix, base string
	// http: the request templates as patterns.
	signIn, refresh, api httpPattern
	resp                 profiles.HTTPResponse
}

// httpPattern is an http target's request template made a matcher.
type httpPattern struct {
	method string
	path   *regexp.Regexp
	// rt captures the refresh token in the body, when the template has one.
	rt *regexp.Regexp
}

func (p httpPattern) matches(r *http.Request) bool {
	return p.path != nil && r.Method == p.method && p.path.MatchString(r.URL.Path)
}

// templateAction matches a Go template action.
var templateAction = regexp.MustCompile(`\{\{[^}]*\}\}`)

// templateRegexp makes a template a regular expression: the text quoted,
// each action any run of characters (capture captures the action naming
// field, when given).
func templateRegexp(tmpl, wildcard, capture string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString("^")
	last, captured := 0, false
	for _, loc := range templateAction.FindAllStringIndex(tmpl, -1) {
		b.WriteString(regexp.QuoteMeta(tmpl[last:loc[0]]))
		action := tmpl[loc[0]:loc[1]]
		if capture != "" && !captured && strings.Contains(action, capture) {
			if strings.Contains(action, "json") {
				b.WriteString(`"([^"]*)"`)
			} else {
				b.WriteString("(" + wildcard + "?)")
			}
			captured = true
		} else {
			b.WriteString(wildcard)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(tmpl[last:]))
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, false
	}
	return re, captured
}

// urlPath is the path of ref (an absolute URL or a path).
func urlPath(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Path != "" {
		return u.Path
	}
	return ref
}

// joinPath is the path a request for ref has: ref's own when it is an
// absolute URL, else ref under the path of base (target.url), as the
// target joins them (load/target).
func joinPath(base, ref string) string {
	if strings.Contains(ref, "://") {
		return urlPath(ref)
	}
	prefix := ""
	if base != "" {
		if u, err := url.Parse(base); err == nil {
			prefix = strings.TrimRight(u.Path, "/")
		}
	}
	return prefix + "/" + strings.TrimLeft(ref, "/")
}

// NewClassifier reads the target section of p; an http target whose
// templates do not make patterns is an error naming the field.
func NewClassifier(p profiles.Profile) (*Classifier, error) {
	t := p.Target
	c := &Classifier{kind: p.TargetKind(), apiPrefix: joinPath(t.URL, "/api/")}
	if c.kind == profiles.TargetFAPI || c.kind == profiles.TargetBuiltin {
		c.base = strings.TrimRight(urlPath(t.URL), "/")
		if t.URL == "" {
			c.base = ""
		}
	}
	if t.APIURL != "" {
		c.apiPrefix = joinPath(t.URL, t.APIURL)
	}
	switch c.kind {
	case profiles.TargetOAuth2:
		c.tokenPath = joinPath(t.URL, t.TokenEndpoint)
		if t.APIURL == "" {
			c.apiPrefix = ""
		}
	case profiles.TargetHTTP:
		c.resp = t.Response
		for _, x := range []struct {
			field string
			req   profiles.HTTPRequest
			into  *httpPattern
			def   string
		}{{"sign_in", t.SignIn, &c.signIn, http.MethodPost}, {"refresh", t.Refresh, &c.refresh, http.MethodPost}, {"api", t.API, &c.api, http.MethodGet}} {
			if x.req.Path == "" {
				continue
			}
			re, _ := templateRegexp(joinPath(t.URL, x.req.Path), "[^/]*", "")
			if re == nil {
				return nil, fmt.Errorf("target.%s.path: cannot match requests by %q", x.field, x.req.Path)
			}
			x.into.method, x.into.path = strings.ToUpper(x.req.Method), re
			if x.into.method == "" {
				x.into.method = x.def
			}
			if x.field == "refresh" && x.req.Body != "" {
				if rt, ok := templateRegexp(x.req.Body, "(?s:.*)", ".RefreshToken"); ok {
					x.into.rt = rt
				}
			}
		}
	}
	return c, nil
}

// classify reads r's kind and tokens; body is the request body (bounded).
func (c *Classifier) classify(r *http.Request, body []byte) request {
	q := request{bearer: bearer(headerValue(r.Header, "Authorization"))}
	switch c.kind {
	case profiles.TargetOAuth2:
		if r.Method == http.MethodPost && r.URL.Path == c.tokenPath {
			form, _ := url.ParseQuery(string(body))
			switch {
			case form.Get("grant_type") == "refresh_token" && form.Get("refresh_token") == PreflightRefreshToken:
				// stampede run's pre-flight probe: no client's refresh, and
				// not counted by the run either, so not by the proxy.
				q.kind = KindOther
			case form.Get("grant_type") == "refresh_token":
				q.kind, q.presented = KindRefresh, form.Get("refresh_token")
			default:
				q.kind = KindSignIn
			}
			return q
		}
		if q.bearer != "" && (c.apiPrefix == "" || strings.HasPrefix(r.URL.Path, c.apiPrefix)) {
			q.kind = KindAPI
		}
	case profiles.TargetHTTP:
		switch {
		case c.refresh.matches(r):
			q.kind = KindRefresh
			if c.refresh.rt != nil {
				if m := c.refresh.rt.FindSubmatch(body); len(m) > 1 {
					q.presented = string(m[1])
				}
			}
			if q.presented == "" {
				q.presented = q.bearer
			}
		case c.signIn.matches(r):
			q.kind = KindSignIn
		case c.api.matches(r):
			q.kind = KindAPI
		}
	default: // builtin, fapi: the embedded backend's endpoints
		path := strings.TrimPrefix(r.URL.Path, c.base)
		switch {
		case path == "/v1/client/sign_ins" && r.Method == http.MethodPost:
			q.kind = KindSignIn
		case strings.HasPrefix(path, "/v1/client/sessions/") && strings.HasSuffix(path, "/tokens") && r.Method == http.MethodPost:
			q.kind = KindRefresh
			q.sid = strings.TrimSuffix(strings.TrimPrefix(path, "/v1/client/sessions/"), "/tokens")
			q.presented = q.bearer
		case strings.HasPrefix(r.URL.Path, c.apiPrefix):
			q.kind = KindAPI
		}
	}
	return q
}

// readAnswer reads the tokens a sign-in or refresh answer issued: JSON
// fields by the target kind, or the http target's response paths.
func (c *Classifier) readAnswer(h http.Header, body []byte) answer {
	var a answer
	switch c.kind {
	case profiles.TargetOAuth2:
		var v struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		_ = json.Unmarshal(body, &v)
		a.access, a.refresh = v.Access, v.Refresh
	case profiles.TargetHTTP:
		var doc any
		_ = json.Unmarshal(body, &doc)
		a.access = lookup(h, doc, c.resp.Token)
		a.refresh = lookup(h, doc, c.resp.RefreshToken)
		a.sid = lookup(h, doc, c.resp.SessionID)
	default:
		var v struct {
			JWT         string `json:"jwt"`
			ClientToken string `json:"client_token"`
			Session     struct {
				ID string `json:"id"`
			} `json:"session"`
		}
		_ = json.Unmarshal(body, &v)
		a.access, a.refresh, a.sid = v.JWT, v.ClientToken, v.Session.ID
	}
	return a
}

// lookup reads an http target's response path: "header:Name", or JSON
// keys joined by dots (numbers index lists); "" when absent.
func lookup(h http.Header, doc any, path string) string {
	if path == "" {
		return ""
	}
	if name, ok := strings.CutPrefix(path, "header:"); ok {
		return h.Get(name)
	}
	for key := range strings.SplitSeq(path, ".") {
		switch v := doc.(type) {
		case map[string]any:
			doc = v[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(v) {
				return ""
			}
			doc = v[i]
		default:
			return ""
		}
	}
	switch v := doc.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}
