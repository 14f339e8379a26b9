package profiles

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

const oauth2Profile = `
clients: 200
app: {api_calls_per_minute: 2}
target:
  kind: oauth2
  url: http://127.0.0.1:5556/dex
  token_endpoint: /token
  client_id: stampede
  client_secret_env: STAMPEDE_CLIENT_SECRET
  auth_method: post
  scope: openid offline_access
  users: {pattern: "user%d@example.com", password_env: STAMPEDE_PASSWORD}
  api_url: /userinfo
  refresh_interval: 5m
  expiry: auto
events:
  - type: toxic
    at: 50%
    duration: 1m
    proxy: dex
    toxic: {type: latency, attributes: {latency: 300ms, jitter: 20ms}}
  - type: toxic
    at: 60%
    proxy: dex
    toxic: {type: reset_peer, stream: upstream, toxicity: 0.5, attributes: {timeout: 100ms}}
`

func TestTargetParses(t *testing.T) {
	p, err := Parse("oauth2.yaml", []byte(oauth2Profile))
	if err != nil {
		t.Fatal(err)
	}
	tg := p.Target
	if p.TargetKind() != TargetOAuth2 || tg.TokenEndpoint != "/token" || tg.AuthMethod != AuthMethodPost ||
		tg.Users.Pattern != "user%d@example.com" || tg.RefreshInterval != Duration(5*time.Minute) {
		t.Errorf("target %+v", tg)
	}
	e := p.Events[1]
	if e.Proxy != "dex" || e.Toxic.Type != ToxicResetPeer || e.Toxic.Stream != StreamUpstream ||
		e.Toxic.Toxicity != 0.5 || e.Toxic.Attributes.Timeout != Duration(100*time.Millisecond) {
		t.Errorf("toxic event %+v", e)
	}
	if p.Events[0].Toxic.Attributes.Latency != Duration(300*time.Millisecond) {
		t.Errorf("latency %+v", p.Events[0].Toxic)
	}
}

func TestTargetKind(t *testing.T) {
	p := Default()
	if p.TargetKind() != TargetBuiltin {
		t.Errorf("default: %s", p.TargetKind())
	}
	p.Target.URL = "http://h"
	if p.TargetKind() != TargetFAPI {
		t.Errorf("with a URL: %s", p.TargetKind())
	}
	if err := p.Validate(); err != nil {
		t.Errorf("fapi by URL: %v", err)
	}
}

func TestTargetValidation(t *testing.T) {
	base := func() Profile {
		p, err := Parse("oauth2.yaml", []byte(oauth2Profile))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		mutate func(*Profile)
		want   string
	}{
		{func(p *Profile) { p.Target.Kind = "saml" }, "target.kind: must be one of builtin, fapi, oauth2, http, got \"saml\""},
		{func(p *Profile) { p.Target.URL = "ftp://x" }, "target.url: URL \"ftp://x\" must start with http:// or https://"},
		{func(p *Profile) { p.Target.TokenEndpoint = "" }, "target.token_endpoint: is required for kind oauth2"},
		{func(p *Profile) { p.Target.URL = "" }, "target.token_endpoint: is a path (\"/token\"): give target.url (or --target)"},
		{func(p *Profile) { p.Target.ClientID = "" }, "target.client_id: is required"},
		{func(p *Profile) { p.Target.ClientSecret = "x" }, "target.client_secret: give client_secret or client_secret_env, not both"},
		{func(p *Profile) { p.Target.AuthMethod = "private_key_jwt" }, "target.auth_method: must be one of basic, post"},
		{func(p *Profile) { p.Target.Users = Users{} }, "target: kind oauth2 needs first credentials"},
		{func(p *Profile) { p.Target.Users.File = "u.txt" }, "target.users.pattern: give pattern or file, not both"},
		{func(p *Profile) { p.Target.Users.Pattern = "u%d-%d" }, "target.users.pattern: must hold at most one verb, a %d for the client's number"},
		{func(p *Profile) { p.Target.Users.Pattern = "u%s" }, "target.users.pattern: must hold at most one verb, a %d for the client's number"},
		{func(p *Profile) { p.Target.Users.PasswordEnv = "" }, "target.users: a pattern needs password_env"},
		{func(p *Profile) { p.Target.Users.Offset = -1 }, "target.users.offset: must not be negative"},
		{func(p *Profile) { p.Target.RefreshInterval = -1 }, "target.refresh_interval: must not be negative"},
		{func(p *Profile) { p.Target.Expiry = "never" }, "target.expiry: must be one of auto, jwt, expires_in"},
		{func(p *Profile) { p.Target.ReusePattern = "(" }, "target.reuse_pattern: is not a regular expression"},
		{func(p *Profile) { p.Target.APIURL = "" }, "target.api_url: is required while app.api_calls_per_minute is 2"},
		{func(p *Profile) { p.Target.Kind = TargetFAPI }, "target.token_endpoint: applies only to kind oauth2, got kind fapi"},
		{func(p *Profile) { p.Target = Target{Kind: TargetBuiltin, URL: "http://h"} }, "target.url: does not apply to kind builtin"},
		{func(p *Profile) { p.Target = Target{Kind: TargetFAPI} }, "target.url: is required for kind fapi"},
		{func(p *Profile) { p.Events[0].Proxy = "" }, "events[0].proxy: is required"},
		{func(p *Profile) { p.Events[0].Toxic.Type = "slicer" }, "events[0].toxic.type: must be one of latency, bandwidth, timeout, reset_peer, slow_close"},
		{func(p *Profile) { p.Events[0].Toxic.Attributes.Rate = 10 }, "events[0].toxic.attributes.rate: does not apply to a latency toxic (its attributes: latency, jitter)"},
		{func(p *Profile) { p.Events[0].Toxic.Attributes = ToxicAttributes{} }, "events[0].toxic.attributes.latency: is required"},
		{func(p *Profile) { p.Events[0].Toxic.Stream = "both" }, "events[0].toxic.stream: must be one of downstream, upstream"},
		{func(p *Profile) { p.Events[1].Toxic.Toxicity = 2 }, "events[1].toxic.toxicity: must be from 0 to 1"},
		{func(p *Profile) { p.Events[1].Fraction = 0.5 }, "events[1].fraction: does not apply to a toxic event (its fields: type, at, proxy, toxic, duration)"},
		{func(p *Profile) { p.Events[1].Toxic = Toxic{Type: ToxicBandwidth} }, "events[1].toxic.attributes.rate: must be at least 1"},
	} {
		p := base()
		tc.mutate(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

// A users pattern without a verb is one user for every client: valid (the
// run warns about it), as is a literal %%.
func TestUsersPatternWithoutAVerbIsValid(t *testing.T) {
	for _, pattern := range []string{"test", "load%%test@example.com"} {
		p, err := Parse("oauth2.yaml", []byte(oauth2Profile))
		if err != nil {
			t.Fatal(err)
		}
		p.Target.Users.Pattern = pattern
		if err := p.Validate(); err != nil {
			t.Errorf("pattern %q: %v", pattern, err)
		}
	}
}

func TestTargetFieldsInTheFile(t *testing.T) {
	_, err := Parse("t.yaml", []byte("target:\n  kind: fapi\n  url: http://h\n  client_id: x\n  scpoe: x\n"))
	for _, want := range []string{
		"t.yaml:4: target.client_id: applies only to kind oauth2, got kind fapi",
		"t.yaml:5: target.scpoe: unknown field (did you mean \"scope\"?)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

func TestRedacted(t *testing.T) {
	p, err := Parse("oauth2.yaml", []byte(oauth2Profile))
	if err != nil {
		t.Fatal(err)
	}
	p.Target.ClientSecretEnv = ""
	p.Target.ClientSecret = "hunter2"
	p.Target.Users.PasswordEnv = ""
	p.Target.Users.Password = "p4ss"
	r := p.Redacted()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "p4ss") ||
		!strings.Contains(string(b), `"client_secret":"[redacted]"`) || !strings.Contains(string(b), `"password":"[redacted]"`) {
		t.Errorf("redacted JSON: %s", b)
	}
	if p.Target.ClientSecret != "hunter2" {
		t.Error("Redacted changed its receiver")
	}
	if err := r.Validate(); err != nil {
		t.Errorf("a redacted profile stays valid: %v", err)
	}
}

func TestDefaultJSONHasNoTarget(t *testing.T) {
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"target"`) {
		t.Errorf("the default target is written out: %s", b)
	}
}

func TestSetTarget(t *testing.T) {
	p := Default()
	for _, kv := range [][2]string{{"target.kind", "oauth2"}, {"target.url", "http://idp"}, {"target.token_endpoint", "/token"},
		{"target.client_id", "c"}, {"target.users", "{pattern: u%d, password_env: PW}"}, {"app.api_calls_per_minute", "0"}} {
		if err := Set(&p, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("set an oauth2 target: %v", err)
	}
}

func TestOAuth2ExampleValidates(t *testing.T) {
	p, err := LoadFile("../examples/oauth2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.TargetKind() != TargetOAuth2 || p.Target.ClientSecretEnv == "" || p.Target.Users.PasswordEnv == "" {
		t.Errorf("the example's target: %+v", p.Target)
	}
}

const httpProfile = `
app: {api_calls_per_minute: 0}
target:
  kind: http
  url: https://api.example.com
  users: {pattern: "u%d"}
  sign_in: {path: /login, body: '{"user": {{json .User}}}', headers: ["X-Key: {{env \"KEY\"}}"]}
  refresh: {path: "/sessions/{{.SessionID}}/refresh", headers: ["Authorization: Bearer {{.RefreshToken}}"]}
  response: {token: data.token, refresh_token: data.refresh, expires_in: "header:X-Expires-In"}
`

func TestHTTPTargetValidation(t *testing.T) {
	base := func() Profile {
		p, err := Parse("http.yaml", []byte(httpProfile))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := base(); p.Target.Refresh.Headers[0] != "Authorization: Bearer {{.RefreshToken}}" || p.Target.Response.Token != "data.token" {
		t.Errorf("parsed %+v", p.Target)
	}
	for _, tc := range []struct {
		mutate func(*Profile)
		want   string
	}{
		{func(p *Profile) { p.Target.SignIn.Path = "" }, "target.sign_in.path: is required for kind http"},
		{func(p *Profile) { p.Target.Refresh.Method = "FETCH" }, "target.refresh.method: must be one of GET, POST, PUT, PATCH, DELETE"},
		{func(p *Profile) { p.Target.SignIn.Body = "{{.User" }, "target.sign_in.body: is not a valid template"},
		{func(p *Profile) { p.Target.SignIn.Body = "{{upper .User}}" }, "target.sign_in.body: is not a valid template"},
		{func(p *Profile) { p.Target.Refresh.Headers = []string{"Bad Header: x"} }, "target.refresh.headers[0]: want \"Name: value\""},
		{func(p *Profile) { p.Target.Response.Token = "" }, "target.response.token: is required for kind http"},
		{func(p *Profile) { p.Target.Response.Token = "data..token" }, "target.response.token: is not a JSON path"},
		{func(p *Profile) { p.Target.Response.ExpiresAt = "exp" }, "target.response.expires_in: give expires_in or expires_at, not both"},
		{func(p *Profile) { p.App.APICallsPerMinute = 1 }, "target.api.path: is required while app.api_calls_per_minute is 1"},
		{func(p *Profile) { p.Target.ClientID = "x" }, "target.client_id: applies only to kind oauth2, got kind http"},
		{func(p *Profile) { p.Target.Kind = TargetOAuth2 }, "target.sign_in: applies only to kind http, got kind oauth2"},
		{func(p *Profile) { p.Target.Kind = TargetFAPI }, "target.users: applies only to kind oauth2 and http, got kind fapi"},
	} {
		p := base()
		tc.mutate(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

func TestRedactedHeaders(t *testing.T) {
	p, err := Parse("http.yaml", []byte(httpProfile))
	if err != nil {
		t.Fatal(err)
	}
	p.Target.SignIn.Headers = []string{"Authorization: Basic c2VjcmV0", "X-Api-Key: k3y", "Accept: application/json", "X-Key: {{env \"KEY\"}}"}
	r := p.Redacted()
	want := []string{"Authorization: [redacted]", "X-Api-Key: [redacted]", "Accept: application/json", "X-Key: {{env \"KEY\"}}"}
	if !slices.Equal(r.Target.SignIn.Headers, want) {
		t.Errorf("headers %q, want %q", r.Target.SignIn.Headers, want)
	}
	if p.Target.SignIn.Headers[0] != "Authorization: Basic c2VjcmV0" {
		t.Error("Redacted changed its receiver's headers")
	}
}
