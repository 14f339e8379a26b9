package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// jwtLike is any JWT: what must never reach an output.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

// secretRun is a run of 20 characters or more that could be a token.
var secretRun = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)

// tokenTap serves the embedded backend and records every token it hands
// out (client tokens, session JWTs) and every bearer token sent to it.
type tokenTap struct {
	h      http.Handler
	mu     sync.Mutex
	tokens map[string]bool
}

type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (t *tokenTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &teeWriter{ResponseWriter: w, status: http.StatusOK}
	t.h.ServeHTTP(tw, r)
	var ans struct {
		ClientToken string `json:"client_token"`
		JWT         string `json:"jwt"`
	}
	_ = json.Unmarshal(tw.body.Bytes(), &ans)
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tok := range []string{ans.ClientToken, ans.JWT, bearer} {
		if tok != "" {
			t.tokens[tok] = true
		}
	}
}

func (t *tokenTap) issued() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string]bool, len(t.tokens))
	for k := range t.tokens {
		m[k] = true
	}
	return m
}

// leaks returns what of text looks like a JWT or is a token the backend
// issued or was shown.
func leaks(text string, tokens map[string]bool) []string {
	var found []string
	for _, m := range jwtLike.FindAllString(text, 3) {
		found = append(found, "JWT "+m)
	}
	for _, m := range secretRun.FindAllString(text, -1) {
		if tokens[m] {
			found = append(found, "token "+m)
		}
	}
	return found
}

// collectCheckpoints reads dir's checkpoint.json each time it changes
// until done is closed.
func collectCheckpoints(dir string, done <-chan struct{}) <-chan []string {
	out := make(chan []string, 1)
	go func() {
		var seen []string
		last := ""
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(filepath.Join(dir, run.CheckpointName)); err == nil && string(b) != last {
				last = string(b)
				seen = append(seen, last)
			}
			select {
			case <-done:
				out <- seen
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestNoOutputShowsATokenForAnyBuiltinProfile runs every built-in profile,
// scaled down, against a backend that records every token it issues, and
// searches stdout, stderr, every file of the results directory, every
// checkpoint written during the run and every format of stampede report
// for a JWT or any of those tokens.
func TestNoOutputShowsATokenForAnyBuiltinProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in profile")
	}
	old := checkpointEvery
	checkpointEvery = 300 * time.Millisecond
	t.Cleanup(func() { checkpointEvery = old })

	be, err := backend.New(backend.Config{TokenLifetime: time.Second, Signing: backend.SigningES256})
	if err != nil {
		t.Fatal(err)
	}
	tap := &tokenTap{h: be, tokens: map[string]bool{}}
	srv := httptest.NewServer(tap)
	defer srv.Close()
	// Secrets planted where a user puts them: a password in the target's
	// URL and the admin token in the environment. Neither may reach any
	// output.
	const urlPassword, adminSecret = "PlantedURLPassword0123456789", "PlantedAdminToken0123456789"
	target := strings.Replace(srv.URL, "http://", "http://stampede-user:"+urlPassword+"@", 1)
	t.Setenv(adminTokenEnv, adminSecret)
	planted := map[string]bool{urlPassword: true, adminSecret: true}

	for _, name := range profiles.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			base := []string{"run", "-p", name, "--clients", "20", "--duration", "2s", "--ramp", "200ms",
				"--target", target, "--out", out, "--no-progress"}
			before := len(tap.issued())
			done := make(chan struct{})
			checkpoints := collectCheckpoints(out, done)
			code, stdout, stderr := runCLI(context.Background(), append(base, "--time-scale", "60")...)
			scale := "×60"
			if code == exitUsage { // the profile's timeline does not fit ×60 in 2 s: its own scale
				scale = "its own time scale (×60: " + strings.TrimSpace(stderr) + ")"
				code, stdout, stderr = runCLI(context.Background(), base...)
			}
			close(done)
			if code != exitOK && code != exitThresholds {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			outputs := map[string]string{"stdout": stdout, "stderr": stderr}
			for i, c := range <-checkpoints {
				outputs[fmt.Sprintf("checkpoint #%d", i+1)] = c
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(out, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				outputs[e.Name()] = string(b)
			}
			if outputs["result.json"] == "" {
				t.Fatalf("no result.json among %v", entries)
			}
			for _, format := range reports.Formats() {
				code, stdout, stderr := runCLI(context.Background(), "report", filepath.Join(out, "result.json"), "--format", format)
				if code != exitOK {
					t.Errorf("report --format %s: exit %d, stderr %q", format, code, stderr)
				}
				outputs["report --format "+format] = stdout + stderr
			}
			for _, format := range reports.ComparisonFormats() {
				res := filepath.Join(out, "result.json")
				_, stdout, stderr := runCLI(context.Background(), "compare", res, res, "--format", format)
				outputs["compare --format "+format] = stdout + stderr
			}
			tokens := tap.issued()
			if !strings.Contains(outputs["result.json"], "stampede-user:xxxxx@") {
				t.Errorf("result.json does not record the target's URL masked")
			}
			if n := len(tokens) - before; n < 40 { // 20 client tokens and 20 JWTs at least
				t.Fatalf("the backend issued only %d new tokens: the run did not sign in", n)
			}
			t.Logf("at %s: searched %d outputs for %d tokens (%d new)", scale, len(outputs), len(tokens), len(tokens)-before)
			for k := range planted {
				tokens[k] = true
			}
			for what, text := range outputs {
				if found := leaks(text, tokens); len(found) > 0 {
					t.Errorf("%s shows token material: %s", what, strings.Join(found, "; "))
				}
			}
		})
	}
}

// TestLeakSearchFindsTokens proves the search above would see a leak.
func TestLeakSearchFindsTokens(t *testing.T) {
	tokens := map[string]bool{"Zm9vYmFyYmF6cXV4cXV1eHh5enp5MDEyMzQ1Njc4OTAx": true}
	for _, text := range []string{
		`error: bad answer {"jwt":"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln"}`,
		"client token Zm9vYmFyYmF6cXV4cXV1eHh5enp5MDEyMzQ1Njc4OTAx rejected",
	} {
		if len(leaks(text, tokens)) == 0 {
			t.Errorf("no leak found in %q", text)
		}
	}
	if found := leaks(reports.Redact(`{"jwt":"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln"}`), tokens); len(found) != 0 {
		t.Errorf("a redacted JWT still counts as a leak: %v", found)
	}
}
