package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
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

// A token endpoint path that 404s fails the pre-flight: the run exits 1
// within 5 s, before any client starts, naming the URL and the 404.
func TestRunAgainstATokenURLThat404sExitsOneNamingIt(t *testing.T) {
	var posts int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			posts++
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body><h1>404 Not Found</h1></body></html>")
	}))
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", "sekret-0123")
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	out := t.TempDir()
	start := time.Now()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, oauth2ProfileYAML(20, "")),
		"--target", srv.URL+"/wrong", "--duration", "1m", "--out", out, "--no-progress")
	took := time.Since(start)
	if code != exitFailure || took > 5*time.Second {
		t.Fatalf("exit %d after %s, want 1 within 5 s; stderr %s", code, took, stderr)
	}
	for _, want := range []string{srv.URL + "/wrong/token", "404", "--skip-preflight"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
	if strings.Contains(stdout+stderr, "sekret-0123") {
		t.Error("the client secret was printed")
	}
	if posts != 1 {
		t.Errorf("%d token requests, want the pre-flight's one", posts)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Error("result.json was written: the run started")
	}
}

// reuseProvider rotates refresh tokens and answers a reused one with 401
// invalid_grant, as some providers do.
type reuseProvider struct {
	mu     sync.Mutex
	used   map[string]bool
	seq    int
	reused int
}

func (p *reuseProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path != "/token" {
		w.WriteHeader(http.StatusOK) // the API
		return
	}
	_ = r.ParseForm()
	rt := r.PostForm.Get("refresh_token")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.PostForm.Get("grant_type") != "refresh_token" || rt == target.PreflightInvalidToken:
		answer(400, map[string]string{"error": "invalid_grant", "error_description": "unknown refresh token"})
		return
	case p.used[rt]:
		p.reused++
		answer(401, map[string]string{"error": "invalid_grant", "error_description": "refresh token " + rt + " was already used"})
		return
	}
	p.used[rt] = true
	p.seq++
	now := time.Now()
	enc := base64.RawURLEncoding.EncodeToString
	jwt := enc([]byte(`{"alg":"none"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"u","iat":%d,"exp":%d}`, now.Unix(), now.Add(time.Hour).Unix())) + ".x"
	answer(200, map[string]any{"access_token": jwt, "token_type": "bearer", "expires_in": 3600,
		"refresh_token": fmt.Sprintf("rt-rotated-%020d", p.seq)})
}

// A provider that answers a reused refresh token with 401 invalid_grant:
// result.json and the summary say so, with its count, and the sample body
// does not show the token.
func TestWhatTheServerSaidShowsTheStatusAndCode(t *testing.T) {
	const shared = "rt-shared-0123456789abcdefghijklmnop"
	fp := &reuseProvider{used: map[string]bool{}}
	srv := httptest.NewServer(fp)
	defer srv.Close()
	const clients = 8
	file := filepath.Join(t.TempDir(), "creds.jsonl")
	var lines strings.Builder
	for range clients { // one refresh token for every client: all but the first reuse it
		lines.WriteString(`{"refresh_token":"` + shared + `"}` + "\n")
	}
	if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_STAMPEDE_SECRET", "sekret-0123")
	yaml := strings.Replace(oauth2ProfileYAML(clients, "  credentials_file: "+file),
		"  users: {pattern: \"user%d@example.com\", password_env: TEST_STAMPEDE_PW}\n", "", 1)
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, yaml), "--target", srv.URL,
		"--duration", "1s", "--ramp", "200ms", "--out", out, "--no-progress")
	if code != exitOK && code != exitThresholds {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	fp.mu.Lock()
	reused := fp.reused
	fp.mu.Unlock()
	if reused != clients-1 {
		t.Fatalf("the provider refused %d reused tokens, want %d", reused, clients-1)
	}
	var got *reports.ErrorAnswer
	for i, a := range res.Ops["sign_in"].ErrorAnswers {
		if a.Label() == "401 invalid_grant" {
			got = &res.Ops["sign_in"].ErrorAnswers[i]
		}
	}
	if got == nil || got.Count != int64(reused) || got.Class != "http_401" {
		t.Fatalf("sign_in error answers %+v: want 401 invalid_grant × %d", res.Ops["sign_in"].ErrorAnswers, reused)
	}
	if !strings.Contains(got.Sample, "already used") || strings.Contains(got.Sample, shared) {
		t.Errorf("sample %q: want the description, without the token", got.Sample)
	}
	if want := fmt.Sprintf("401 invalid_grant: %d", reused); !strings.Contains(stdout, want) {
		t.Errorf("summary does not show %q:\n%s", want, stdout)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "result.json"))
	if strings.Contains(string(raw)+stdout+stderr, shared) {
		t.Error("the refresh token appears in the output")
	}
}

// The last progress line shows the fleet as it was before the stop, not
// the clients leaving it: every client signed in, as the summary says.
func TestLastProgressLineShowsTheFleetBeforeTheStop(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "--clients", "20", "--duration", "1500ms", "--ramp", "0s",
		"--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var last string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "[") {
			last = l
		}
	}
	if !strings.Contains(last, "clients 20/20 (signed in 20,") {
		t.Errorf("last progress line %q, want the 20 clients signed in", last)
	}
	if !strings.Contains(stdout, "20 active") {
		t.Errorf("summary does not show 20 active sessions:\n%s", stdout)
	}
}

// Tokens that outlive the run: the run warns before it starts, naming
// target.refresh_interval, and the summary keeps the refresh row at 0 with
// the reason.
func TestTokensThatOutliveTheRunAreNoSilentZero(t *testing.T) {
	fp := newFakeProvider(2 * time.Hour)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, oauth2ProfileYAML(5, "")),
		"--target", srv.URL, "--duration", "1s", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	warning := "stampede: warning: the session tokens live 2h0m0s (the first sign-in's)"
	if i := strings.Index(stderr, warning); i < 0 || !strings.Contains(stderr[i:], "target.refresh_interval") || strings.Index(stderr, "stampede run ") < i {
		t.Errorf("stderr %q: want the warning naming target.refresh_interval before the run starts", stderr)
	}
	var row string
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "refresh" {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) < 4 || f[1] != "0" {
		t.Errorf("refresh row %q, want it kept at 0", row)
	}
	if !strings.Contains(stdout, "no refreshes: the session tokens live 2h0m0s") {
		t.Errorf("summary lacks the reason:\n%s", stdout)
	}
}
