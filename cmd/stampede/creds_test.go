package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/reports"
)

// TestCredsMintsAFileTheRunUses mints refresh tokens for 6 users, then
// runs 6 clients from the file: they sign in with the refresh_token
// grant, not the password grant.
func TestCredsMintsAFileTheRunUses(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	profile := writeOAuth2Profile(t, oauth2ProfileYAML(6, ""))
	file := filepath.Join(t.TempDir(), "creds.jsonl")
	code, stdout, stderr := runCLI(context.Background(), "creds", "-p", profile, "--target", srv.URL, "-o", file)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if stdout != "" || !strings.Contains(stderr, "6 of 6 users signed in") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", fi.Mode(), err)
	}
	creds, err := target.ReadCredentialsFile(file)
	if err != nil || len(creds) != 6 {
		t.Fatalf("creds %+v, %v", creds, err)
	}
	fp.mu.Lock()
	for i, c := range creds {
		if want := "user" + string(rune('0'+i)) + "@example.com"; c.Subject != want || fp.current[want] != c.RefreshToken {
			t.Errorf("line %d: %+v, want subject %s and its newest token", i, c, want)
		}
		if strings.Contains(stderr, c.RefreshToken) {
			t.Errorf("stderr shows a refresh token")
		}
	}
	fp.grants = map[string]int{}
	fp.mu.Unlock()

	run := strings.Replace(oauth2ProfileYAML(6, "  credentials_file: "+file), "  users: {pattern: \"user%d@example.com\", password_env: TEST_STAMPEDE_PW}\n", "", 1)
	out := t.TempDir()
	code, _, stderr = runCLI(context.Background(), "run", "-p", writeOAuth2Profile(t, run), "--target", srv.URL,
		"--duration", "1500ms", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("run: exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if res.Ops["sign_in"].OK != 6 || fp.grants["password"] != 0 || fp.reused != 0 || res.Ops["refresh"].OK == 0 {
		t.Errorf("sign-ins %+v, refreshes %+v, grants %v, reused %d", res.Ops["sign_in"], res.Ops["refresh"], fp.grants, fp.reused)
	}
}

func TestCredsToStandardOutputAndFailures(t *testing.T) {
	fp := newFakeProvider(time.Second)
	srv := httptest.NewServer(fp)
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", fp.secret)
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	profile := writeOAuth2Profile(t, oauth2ProfileYAML(3, ""))
	code, stdout, stderr := runCLI(context.Background(), "creds", "-p", profile, "--target", srv.URL, "--count", "2")
	if code != exitOK || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, `"subject":"user1@example.com"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(context.Background(), "creds", "-p", profile, "--target", srv.URL,
		"--set", "target.users.pattern=blocked%d")
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "3 of 3 users could not sign in (3 invalid_grant (HTTP 401))") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestCredsBadUsage(t *testing.T) {
	fapi := writeOAuth2Profile(t, "target: {kind: fapi, url: http://127.0.0.1:1}\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"creds"}, "--profile: required"},
		{[]string{"creds", "-p", fapi}, "target.kind is fapi: stampede creds needs an oauth2 target"},
		{[]string{"creds", "-p", fapi, "--count", "0", "--concurrency", "0"}, "--count: must be at least 1"},
		{[]string{"creds", "-p", fapi, "--set", "target.kind=oauth3"}, "--set target.kind=oauth3: must be one of builtin, fapi, oauth2, http"},
	} {
		code, _, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, code, stderr, tc.want)
		}
	}
}
