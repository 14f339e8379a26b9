package main

import (
	"context"
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

// countingServer stands in front of a fakeProvider and counts, per
// operation as stampede names it, the requests that reached it: a
// refresh_token grant presenting a token of the credentials file the run
// started from (or a password grant) is a sign-in, any other
// refresh_token grant a refresh, a call of /api an API call.
type countingServer struct {
	fp *fakeProvider

	mu        sync.Mutex
	file      map[string]bool // the credentials file's refresh tokens
	ops       map[string]int  // operation → requests
	failed    map[string]int  // operation → answers other than 200
	onRefresh func(n int)     // called with every refresh request (n so far), if set
}

func newCountingServer(fp *fakeProvider) *countingServer {
	return &countingServer{fp: fp, ops: map[string]int{}, failed: map[string]int{}}
}

// reset starts a new count for a run from the credentials file path.
func (c *countingServer) reset(t *testing.T, path string) {
	t.Helper()
	creds, err := target.ReadCredentialsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.file = map[string]bool{}
	for _, cr := range creds {
		c.file[cr.RefreshToken] = true
	}
	c.ops, c.failed = map[string]int{}, map[string]int{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	w.status = s
	w.ResponseWriter.WriteHeader(s)
}

func (c *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := "api"
	if r.URL.Path == "/token" {
		_ = r.ParseForm()
		c.mu.Lock()
		c.fp.mu.Lock()
		_, known := c.fp.owner[r.PostForm.Get("refresh_token")]
		c.fp.mu.Unlock()
		switch gt := r.PostForm.Get("grant_type"); {
		case r.Method != http.MethodPost, gt != "password" && !known:
			op = "preflight" // no operation of a client: a probe of the endpoint
		case gt == "password", c.file[r.PostForm.Get("refresh_token")]:
			op = "sign_in"
		default:
			op = "refresh"
		}
		c.mu.Unlock()
	}
	sw := &statusWriter{ResponseWriter: w, status: 200}
	c.fp.ServeHTTP(sw, r)
	c.mu.Lock()
	c.ops[op]++
	if sw.status != 200 {
		c.failed[op]++
	}
	n := c.ops[op]
	onRefresh := c.onRefresh
	c.mu.Unlock()
	if op == "refresh" && onRefresh != nil {
		onRefresh(n)
	}
}

// agree fails the test unless res counts, per operation, the requests the
// server saw, and as many failures.
func (c *countingServer) agree(t *testing.T, name string, res *reports.Result) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range []string{"sign_in", "refresh", "api"} {
		got := res.Ops[op]
		if got.Count != int64(c.ops[op]) || got.Count-got.OK != int64(c.failed[op]) {
			t.Errorf("%s: %s counted %d requests (%d failed), the server saw %d (%d failed)", name, op, got.Count, got.Count-got.OK, c.ops[op], c.failed[op])
		}
	}
}

// credsOnlyProfile is a profile of n clients signing in from the
// credentials file alone (no users), writing it to a file.
func credsOnlyProfile(t *testing.T, n int, file string) string {
	yaml := strings.Replace(oauth2ProfileYAML(n, "  credentials_file: "+file),
		"  users: {pattern: \"user%d@example.com\", password_env: TEST_STAMPEDE_PW}\n", "", 1)
	return writeOAuth2Profile(t, yaml)
}

// runCounted runs profile against srv and returns its result.
func runCounted(t *testing.T, ctx context.Context, profile, url string, want int, args ...string) (*reports.Result, string) {
	t.Helper()
	out := t.TempDir()
	code, _, stderr := runCLI(ctx, append([]string{"run", "-p", profile, "--target", url, "--out", out, "--no-progress", "--duration", "1500ms"}, args...)...)
	if code != want {
		t.Fatalf("exit %d, want %d; stderr %s", code, want, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	return res, stderr
}

// mintFile mints n refresh tokens from fp by the password grant.
func mintFile(t *testing.T, url string, n int) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "creds.jsonl")
	code, _, stderr := runCLI(context.Background(), "creds", "-p", writeOAuth2Profile(t, oauth2ProfileYAML(n, "")), "--target", url, "-o", file)
	if code != exitOK {
		t.Fatalf("creds: exit %d; stderr %s", code, stderr)
	}
	return file
}

// TestCountsEqualTheServers: against a provider that rotates refresh
// tokens, stampede's count of every operation is the server's, for a
// fresh credentials file, a reused (spent) one, one shorter than the
// fleet, and a run interrupted mid-way; spent or missing credentials are
// the session status credentials_exhausted, never sign-ins retried
// locally.
func TestCountsEqualTheServers(t *testing.T) {
	fp := newFakeProvider(time.Second)
	cs := newCountingServer(fp)
	srv := httptest.NewServer(cs)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	const n = 20
	file := mintFile(t, srv.URL, n)
	profile := credsOnlyProfile(t, n, file)

	cs.reset(t, file)
	res, _ := runCounted(t, context.Background(), profile, srv.URL, exitOK)
	cs.agree(t, "first run", res)
	if s := res.Ops["sign_in"]; s.Count != n || s.OK != n || res.Ops["refresh"].OK == 0 {
		t.Errorf("first run: sign-ins %+v, refreshes %+v", s, res.Ops["refresh"])
	}

	// The same file again: every token was rotated away. One refused
	// request per client, then nothing: the clients' credentials are
	// exhausted.
	// The pre-flight's canary (client 0) finds it out first and names the
	// file; past the pre-flight, every client is refused once.
	cs.reset(t, file)
	code, _, stderr := runCLI(context.Background(), "run", "-p", profile, "--target", srv.URL, "--out", t.TempDir(), "--no-progress", "--duration", "1500ms")
	if code != exitFailure || !strings.Contains(stderr, "400 invalid_request") || !strings.Contains(stderr, "credentials_file") || !strings.Contains(stderr, "--update-credentials") {
		t.Errorf("spent file: exit %d, want %d naming the server's answer and the credentials file; stderr %s", code, exitFailure, stderr)
	}
	cs.reset(t, file)
	// No client signs in: the run fails its invariants (no API call made).
	res, _ = runCounted(t, context.Background(), profile, srv.URL, exitThresholds, "--skip-preflight")
	cs.agree(t, "spent file", res)
	if s := res.Ops["sign_in"]; s.Count != n || s.OK != 0 || res.Ops["refresh"].Count != 0 {
		t.Errorf("spent file: sign-ins %+v, refreshes %+v", s, res.Ops["refresh"])
	}
	if got := res.Sessions.ByStatus["credentials_exhausted"]; got != n {
		t.Errorf("spent file: sessions %v, want %d credentials_exhausted", res.Sessions.ByStatus, n)
	}

	// A file shorter than the fleet: the clients past its end send nothing.
	short := mintFile(t, srv.URL, 3)
	cs.reset(t, short)
	res, stderr = runCounted(t, context.Background(), credsOnlyProfile(t, 5, short), srv.URL, exitOK)
	cs.agree(t, "short file", res)
	if s := res.Ops["sign_in"]; s.Count != 3 || s.OK != 3 {
		t.Errorf("short file: sign-ins %+v", s)
	}
	if res.Sessions.ByStatus["credentials_exhausted"] != 2 || res.Sessions.ByStatus["active"] != 3 {
		t.Errorf("short file: sessions %v", res.Sessions.ByStatus)
	}
	if !strings.Contains(stderr, "holds 3 refresh tokens for 5 clients") {
		t.Errorf("short file: no warning in %q", stderr)
	}

	// With --update-credentials the file follows the rotation: the next
	// run signs every client in again.
	file = mintFile(t, srv.URL, n)
	profile = credsOnlyProfile(t, n, file)
	for run := range 2 {
		cs.reset(t, file)
		res, stderr = runCounted(t, context.Background(), profile, srv.URL, exitOK, "--update-credentials")
		cs.agree(t, "updated file", res)
		if s := res.Ops["sign_in"]; s.Count != n || s.OK != n {
			t.Errorf("updated file, run %d: sign-ins %+v; stderr %s", run, s, stderr)
		}
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file mode %v, %v", fi.Mode(), err)
		}
		creds, err := target.ReadCredentialsFile(file)
		if err != nil || len(creds) != n {
			t.Fatalf("credentials %d, %v", len(creds), err)
		}
		fp.mu.Lock()
		for i, c := range creds {
			if u := fp.owner[c.RefreshToken]; fp.current[u] != c.RefreshToken || c.Subject != u {
				t.Errorf("run %d, line %d: not the newest refresh token of %s (%s)", run, i, u, c.Subject)
			}
			if strings.Contains(stderr, c.RefreshToken) {
				t.Errorf("stderr shows a refresh token")
			}
		}
		fp.mu.Unlock()
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("the credentials file's directory holds %d files, want only the file", len(entries))
	}

	// Interrupted mid-run, with requests in flight: every request counted
	// is one the server saw, and the other way round.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs.reset(t, file)
	cs.mu.Lock()
	cs.onRefresh = func(k int) {
		if k == 2*n {
			cancel()
		}
	}
	cs.mu.Unlock()
	res, _ = runCounted(t, ctx, profile, srv.URL, exitInterrupted, "--update-credentials", "--duration", "20s")
	cs.agree(t, "interrupted", res)
	if !res.Partial || res.Ops["refresh"].Count < 2*n {
		t.Errorf("interrupted: partial %v, refreshes %+v", res.Partial, res.Ops["refresh"])
	}
	// And the file it left holds the newest tokens still.
	cs.mu.Lock()
	cs.onRefresh = nil
	cs.mu.Unlock()
	cs.reset(t, file)
	res, _ = runCounted(t, context.Background(), profile, srv.URL, exitOK, "--duration", "1s")
	cs.agree(t, "after the interrupted run", res)
	if s := res.Ops["sign_in"]; s.OK != n {
		t.Errorf("after the interrupted run: sign-ins %+v", s)
	}
}
