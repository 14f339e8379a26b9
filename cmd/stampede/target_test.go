package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/reports"
)

// fakeProvider is an OAuth 2.0 authorization server for tests: the
// password grant for users with password "pw", the refresh_token grant
// with rotation and reuse detection (Dex's answer), JWT access tokens of a
// fixed lifetime, and a protected /api.
type fakeProvider struct {
	lifetime time.Duration
	secret   string

	mu       sync.Mutex
	current  map[string]string // user → newest refresh token
	owner    map[string]string // refresh token → user
	seq      int
	grants   map[string]int // grant type → count
	reused   int
	probes   int      // pre-flight probes of the token endpoint
	auth     []string // Authorization headers of token requests
	apiCalls int
}

func newFakeProvider(lifetime time.Duration) *fakeProvider {
	return &fakeProvider{lifetime: lifetime, secret: "sekret-0123", current: map[string]string{}, owner: map[string]string{}, grants: map[string]int{}}
}

func (f *fakeProvider) jwt(user string) string {
	now := time.Now()
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":%q,"iat":%.3f,"exp":%.3f}`, user,
		float64(now.UnixMilli())/1e3, float64(now.Add(f.lifetime).UnixMilli())/1e3)) + ".x"
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/api" {
		f.mu.Lock()
		f.apiCalls++
		f.mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.WriteHeader(401)
		}
		return
	}
	if r.URL.Path != "/token" || r.Method != http.MethodPost {
		answer(405, map[string]string{"error": "invalid_request", "error_description": "method not allowed"})
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	id, secret, _ := r.BasicAuth()
	if id != "stampede" || secret != f.secret {
		answer(401, map[string]string{"error": "invalid_client"})
		return
	}
	gt := r.PostForm.Get("grant_type")
	if gt == "refresh_token" && r.PostForm.Get("refresh_token") == target.PreflightInvalidToken {
		f.probes++ // the pre-flight's deliberately invalid grant
		answer(400, map[string]string{"error": "invalid_grant", "error_description": "unknown refresh token"})
		return
	}
	f.grants[gt]++
	var user string
	switch gt {
	case "password":
		user = r.PostForm.Get("username")
		if r.PostForm.Get("password") != "pw" || strings.HasPrefix(user, "blocked") {
			answer(401, map[string]string{"error": "invalid_grant", "error_description": "invalid credentials"})
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		user = f.owner[rt]
		if user == "" || f.current[user] != rt {
			f.reused++
			answer(400, map[string]string{"error": "invalid_request", "error_description": "Refresh token is invalid or has already been claimed by another client."})
			return
		}
	default:
		answer(400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	f.seq++
	rt := fmt.Sprintf("rt-%s-%d", user, f.seq)
	f.current[user], f.owner[rt] = rt, user
	answer(200, map[string]any{"access_token": f.jwt(user), "token_type": "bearer", "expires_in": int(f.lifetime.Seconds()), "refresh_token": rt})
}

// oauth2ProfileYAML is a profile of clients against a fake provider at url.
func oauth2ProfileYAML(clients int, extra string) string {
	return fmt.Sprintf(`
clients: %d
duration: 3s
ramp: 500ms
time_scale: 1
sdk: {refresh_ahead: 300ms, stale_window: 200ms, request_timeout: 2s}
app: {api_calls_per_minute: 120}
target:
  kind: oauth2
  token_endpoint: /token
  client_id: stampede
  client_secret_env: TEST_STAMPEDE_SECRET
  scope: openid offline_access
  users: {pattern: "user%%d@example.com", password_env: TEST_STAMPEDE_PW}
  api_url: /api
%s`, clients, extra)
}

func writeOAuth2Profile(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "oauth2.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunOAuth2Target runs clients against a rotating provider: every
// refresh uses the newest refresh token, the secret appears nowhere.
func TestRunOAuth2Target(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, oauth2ProfileYAML(20, "")),
		"--target", srv.URL, "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Target.Kind != "oauth2" || res.Target.URL != srv.URL+"/token" {
		t.Errorf("target %+v", res.Target)
	}
	fp.mu.Lock()
	grants, reused, api := fp.grants, fp.reused, fp.apiCalls
	fp.mu.Unlock()
	ref, signIn := res.Ops["refresh"], res.Ops["sign_in"]
	if signIn.Count != 20 || signIn.OK != 20 || grants["password"] != 20 {
		t.Errorf("sign-ins %+v, password grants %d", signIn, grants["password"])
	}
	// 1 s tokens refreshed 300 ms ahead over ~3 s: about 3 refreshes each.
	if ref.OK < 40 || ref.OK != ref.Count || int64(grants["refresh_token"]) != ref.Count || reused != 0 {
		t.Errorf("refreshes %+v, refresh grants %d, reused %d", ref, grants["refresh_token"], reused)
	}
	if res.Ops["api"].OK == 0 || int64(api) != res.Ops["api"].Count {
		t.Errorf("api %+v, served %d", res.Ops["api"], api)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "result.json"))
	for name, text := range map[string]string{"stdout": stdout, "stderr": stderr, "result.json": string(raw)} {
		if strings.Contains(text, fp.secret) {
			t.Errorf("%s shows the client secret", name)
		}
	}
	if !strings.Contains(string(raw), `"client_secret_env": "TEST_STAMPEDE_SECRET"`) {
		t.Errorf("result.json does not record the target: %s", raw[:min(len(raw), 2000)])
	}
}

func TestRunOAuth2SecretInTheProfileIsRedacted(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	yaml := strings.Replace(oauth2ProfileYAML(3, ""), "client_secret_env: TEST_STAMPEDE_SECRET", "client_secret: "+fp.secret, 1)
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, yaml), "--target", srv.URL,
		"--duration", "1s", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "result.json"))
	if !strings.Contains(string(raw), `"client_secret": "[redacted]"`) {
		t.Errorf("result.json: no redacted secret")
	}
	for name, text := range map[string]string{"stdout": stdout, "stderr": stderr, "result.json": string(raw)} {
		if strings.Contains(text, fp.secret) {
			t.Errorf("%s shows the client secret", name)
		}
	}
}

func TestRunOAuth2Problems(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	for _, tc := range []struct {
		name string
		yaml string
		args []string
		code int
		want []string
	}{
		{"secret env unset", oauth2ProfileYAML(2, ""), nil, exitUsage,
			[]string{"target.client_secret_env: the environment variable TEST_STAMPEDE_SECRET is not set"}},
		{"no URL for the endpoint", oauth2ProfileYAML(2, ""), []string{"--target", ""}, exitUsage,
			[]string{"target.token_endpoint: is a path (\"/token\"): give target.url (or --target)"}},
		{"builtin with --target", "target: {kind: builtin}\n", nil, exitUsage, []string{"--target: does not apply to kind builtin"}},
		{"bad TLS flags", oauth2ProfileYAML(2, ""), []string{"--client-cert", "c.pem", "--ca-cert", "/nonexistent.pem"}, exitUsage,
			[]string{"--ca-cert: open /nonexistent.pem", "--client-cert and --client-key go together"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "secret env unset" {
				t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
			}
			args := append([]string{"run", "-p", writeOAuth2Profile(t, tc.yaml), "--out", t.TempDir(), "--quiet", "--target", srv.URL}, tc.args...)
			code, _, stderr := runCLI(context.Background(), args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

// TestRunTLSFlags: a TLS target is trusted through --ca-cert, or not
// verified with --insecure-skip-verify, which is warned about and recorded.
func TestRunTLSFlags(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewTLSServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	profile := writeOAuth2Profile(t, oauth2ProfileYAML(2, ""))
	run := func(args ...string) (int, string, *reports.Result) {
		out := t.TempDir()
		code, _, stderr := runCLI(context.Background(), append([]string{"run", "-p", profile, "--target", srv.URL,
			"--duration", "1s", "--out", out, "--no-progress"}, args...)...)
		res, _ := reports.ReadFile(filepath.Join(out, "result.json"))
		return code, stderr, res
	}
	if code, stderr, _ := run(); code != exitFailure || !strings.Contains(stderr, "certificate") {
		t.Errorf("untrusted: exit %d, stderr %s", code, stderr)
	}
	code, stderr, res := run("--ca-cert", ca)
	if code != exitOK || res == nil || res.Ops["refresh"].OK == 0 || res.Target.InsecureSkipVerify || strings.Contains(stderr, "insecure") {
		t.Errorf("--ca-cert: exit %d, stderr %s", code, stderr)
	}
	if c := res.Engine.Connections; c.TLSHandshakes < 1 || c.TLSHandshakes > c.Dials {
		t.Errorf("--ca-cert: connections %+v, want TLS handshakes, one per dial at most", c)
	}
	// Per client: the preflight's connection, and one of each of the 2 clients.
	code, stderr, res = run("--ca-cert", ca, "--set", "connections=per_client")
	if code != exitOK || res == nil || res.Engine.Connections.TLSHandshakes < 3 {
		t.Errorf("per_client: exit %d, stderr %s, result %+v", code, stderr, res)
	}
	code, stderr, res = run("--insecure-skip-verify")
	if code != exitOK || res == nil || !res.Target.InsecureSkipVerify || !strings.Contains(stderr, "warning: --insecure-skip-verify") {
		t.Errorf("--insecure-skip-verify: exit %d, stderr %s", code, stderr)
	}
	raw, _ := json.Marshal(res.Target)
	if !strings.Contains(string(raw), `"insecure_skip_verify":true`) {
		t.Errorf("target %s", raw)
	}
}

func TestTLSClientCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(403)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	// The server's own certificate and key serve as the client's.
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	_ = os.WriteFile(key, localhostKeyPEM(t, srv), 0o600)
	cfg, err := tlsFlags{clientCert: cert, clientKey: key, insecure: true}.config()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("client certificate not sent: %d", resp.StatusCode)
	}
}

// localhostKeyPEM is the PEM private key of httptest's built-in certificate.
func localhostKeyPEM(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	// httptest's certificate is internal/testcert's; its key is served
	// through the server's TLS config.
	c := srv.TLS.Certificates[0]
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TestRunHTTPTarget describes the fake provider with an http target's
// templates instead of the oauth2 kind: the same run, the same rotation.
func TestRunHTTPTarget(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_BASIC", base64.StdEncoding.EncodeToString([]byte("stampede:"+fp.secret)))
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	yaml := `
clients: 10
duration: 2s
ramp: 200ms
time_scale: 1
sdk: {refresh_ahead: 300ms, stale_window: 200ms, request_timeout: 2s}
app: {api_calls_per_minute: 120}
target:
  kind: http
  users: {pattern: "user%d@example.com", password_env: TEST_STAMPEDE_PW}
  sign_in:
    path: /token
    headers: ["Authorization: Basic {{env \"TEST_BASIC\"}}", "Content-Type: application/x-www-form-urlencoded"]
    body: "grant_type=password&username={{.User}}&password={{.Password}}"
  refresh:
    path: /token
    headers: ["Authorization: Basic {{env \"TEST_BASIC\"}}", "Content-Type: application/x-www-form-urlencoded"]
    body: "grant_type=refresh_token&refresh_token={{.RefreshToken}}"
  api:
    method: GET
    path: /api
    headers: ["Authorization: Bearer {{.Token}}"]
  response: {token: access_token, refresh_token: refresh_token}
`
	out := t.TempDir()
	code, _, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, yaml), "--target", srv.URL, "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if res.Target.Kind != "http" || res.Ops["sign_in"].OK != 10 || res.Ops["refresh"].OK < 10 || res.Ops["refresh"].ErrorCount() != 0 ||
		fp.reused != 0 || res.Ops["api"].OK == 0 || res.Ops["api"].ErrorCount() != 0 {
		t.Errorf("target %+v, sign-in %+v, refresh %+v, api %+v, reused %d", res.Target, res.Ops["sign_in"], res.Ops["refresh"], res.Ops["api"], fp.reused)
	}
	if raw, _ := os.ReadFile(filepath.Join(out, "result.json")); strings.Contains(string(raw), fp.secret) {
		t.Error("result.json holds the secret")
	}
}
