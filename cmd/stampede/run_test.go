package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/reports"
)

// runCLI runs stampede with args in process and returns its exit code and streams.
func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = execute(ctx, args, streams{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestRunBadInputExitsTwoNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // each must appear, one problem per line
	}{
		{[]string{"run", "--clients", "0"}, []string{"--clients"}},
		{[]string{"run", "--clients", "-5"}, []string{"--clients"}},
		{[]string{"run", "--duration", "0s"}, []string{"--duration"}},
		{[]string{"run", "--duration", "-1s"}, []string{"--duration"}},
		{[]string{"run", "--time-scale", "0.5"}, []string{"--time-scale"}},
		{[]string{"run", "--ramp", "-1s"}, []string{"--ramp"}},
		{[]string{"run", "--ramp", "2m", "--duration", "1m"}, []string{"--ramp"}},
		{[]string{"run", "--target", "ftp://example.test"}, []string{"--target"}},
		{[]string{"run", "--profile", "nope"}, []string{"--profile", "default"}},
		{[]string{"run", "--no-such-flag"}, []string{"--no-such-flag"}},
		{[]string{"run", "--clients", "many"}, []string{"--clients"}},
		{[]string{"run", "extra"}, []string{"extra"}},
		{[]string{"launch"}, []string{"launch"}},
		{[]string{"run", "--clients", "0", "--duration", "0s", "--time-scale", "0"}, []string{"--clients", "--duration", "--time-scale"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(context.Background(), tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != len(tc.want) && !strings.Contains(tc.want[0], "profile") {
				t.Errorf("want %d lines, got %d: %q", len(tc.want), len(lines), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %s", stderr, w)
				}
			}
		})
	}
}

func TestRunOutNotWritableExitsTwoBeforeTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(context.Background(), "run", "--out", filepath.Join(file, "sub"), "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "--out") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming --out", code, stderr)
	}
	if strings.Contains(stderr, "stampede run ") {
		t.Errorf("the run started: %q", stderr)
	}
}

func TestRunTargetUnreachableExitsOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	start := time.Now()
	code, _, stderr := runCLI(context.Background(), "run", "--target", url, "--out", t.TempDir(), "--quiet")
	if code != exitFailure || !strings.Contains(stderr, url) {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming %s", code, stderr, url)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s, want under 5 s", d)
	}
}

func TestRunTargetThatNeverAnswersTimesOut(t *testing.T) {
	// A listener that never accepts: the TCP handshake completes in the
	// backlog but no HTTP answer ever comes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var errb bytes.Buffer
	o := &runOptions{streams: streams{out: &bytes.Buffer{}, err: &errb}, profile: "default",
		target: "http://" + ln.Addr().String(), outDir: t.TempDir(), quiet: true,
		preflightTimeout: 200 * time.Millisecond}
	err = o.run(context.Background())
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("err %v (exit %d); want exit 1 naming the target", err, exitCode(err))
	}
}

// TestRunResultMatchesTargetCounts runs 200 clients through the CLI against
// a backend the test holds, and checks result.json against its counts.
func TestRunResultMatchesTargetCounts(t *testing.T) {
	be, err := backend.New(backend.Config{TokenLifetime: time.Second, Signing: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := be.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "--target", srv.URL, "--clients", "200",
		"--duration", "3s", "--ramp", "600ms", "--time-scale", "60", "--seed", "42", "--out", out, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || res.Profile.Clients != 200 || res.Profile.Seed != 42 || res.Target.URL != srv.URL || res.RunID == "" {
		t.Errorf("result header wrong: partial=%v clients=%d seed=%d target=%+v run_id=%q",
			res.Partial, res.Profile.Clients, res.Profile.Seed, res.Target, res.RunID)
	}
	st := be.Stats()
	for op, ep := range map[string]string{"sign_in": backend.EndpointSignIn, "refresh": backend.EndpointToken, "api": backend.EndpointAPI} {
		var served int64
		for _, n := range st.Endpoints[ep] {
			served += n
		}
		o := res.Ops[op]
		if o == nil || o.Count != served || o.Count == 0 {
			t.Errorf("ops.%s = %+v; backend served %d", op, o, served)
			continue
		}
		if o.HDR == "" || o.LatencyMs.P99 <= 0 {
			t.Errorf("ops.%s has no latency histogram: %+v", op, o.LatencyMs)
		}
		h, err := reports.DecodeHistogram(o.HDR)
		if err != nil || h.TotalCount() != o.Count-o.Errors["cancelled"] {
			t.Errorf("ops.%s hdr holds %d values (err %v), want %d", op, h.TotalCount(), err, o.Count)
		}
	}
	if len(res.Timeline.RefreshAttempts) < 29 {
		t.Errorf("timeline has %d buckets for a 3 s run", len(res.Timeline.RefreshAttempts))
	}
	if !strings.Contains(stdout, "refresh") || !strings.Contains(stdout, "result.json") {
		t.Errorf("summary missing from stdout: %s", stdout)
	}
	if strings.Contains(stderr, "\x1b[") {
		t.Errorf("ANSI escapes on a non-terminal stderr: %q", stderr)
	}
	for _, secret := range []string{"eyJ"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("token material in the output")
		}
	}
}

func TestRunInterruptedWritesPartialResultAndExits130(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	o := &runOptions{streams: streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, profile: "default",
		outDir: out, quiet: true, preflightTimeout: time.Second,
		// Interrupt as soon as the embedded backend is up: mid-ramp.
		onBackend: func(*backend.Backend) { cancel() },
	}
	err := o.run(ctx)
	if exitCode(err) != exitInterrupted {
		t.Fatalf("err %v, exit %d; want %d", err, exitCode(err), exitInterrupted)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial {
		t.Error("partial = false after an interrupt")
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(context.Background(), "version")
	if code != 0 || !strings.HasPrefix(stdout, "stampede ") {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
}

// TestRunPassesTheAdminTokenToTheTarget runs fleet events (a revocation
// wave, a key rotation) against a backend whose admin API needs a token, as
// stampede serve --admin-token has it: with --admin-token or
// $STAMPEDE_ADMIN_TOKEN they act; without, the run still completes and the
// events carry the target's refusal. The token is never printed.
func TestRunPassesTheAdminTokenToTheTarget(t *testing.T) {
	const token = "adm-s3cret-7f1c9e"
	profile := filepath.Join(t.TempDir(), "admin-events.yaml")
	if err := os.WriteFile(profile, []byte(`name: admin-events
clients: 20
duration: 2s
ramp: 400ms
time_scale: 60
events:
  - type: revocation_wave
    at: 40%
    fraction: 0.5
  - type: key_rotation
    at: 60%
    overlap: true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
		env   string
		ok    bool
	}{
		{name: "flag", flags: []string{"--admin-token", token}, ok: true},
		{name: "environment", env: token, ok: true},
		{name: "none"},
		{name: "wrong", flags: []string{"--admin-token", "not-the-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(adminTokenEnv, tc.env)
			be, err := backend.New(backend.Config{Signing: backend.SigningEdDSA, AdminToken: token})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := be.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			kid := be.KeyID()
			out := t.TempDir()
			args := append([]string{"run", "-p", profile, "--target", srv.URL, "--out", out, "--no-progress"}, tc.flags...)
			code, stdout, stderr := runCLI(context.Background(), args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr %s", code, stderr)
			}
			raw, err := os.ReadFile(filepath.Join(out, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string]string{"stdout": stdout, "stderr": stderr, "result.json": string(raw)} {
				if strings.Contains(text, token) {
					t.Errorf("the admin token shows in %s", name)
				}
			}
			res, err := reports.ReadFile(filepath.Join(out, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 2 {
				t.Fatalf("events = %+v", res.Events)
			}
			wave, rotation := res.Events[0], res.Events[1]
			revoked := be.Stats().Sessions["revoked"]
			if tc.ok {
				if wave.Error != "" || rotation.Error != "" {
					t.Errorf("events refused with the token: %q, %q", wave.Error, rotation.Error)
				}
				if wave.Sessions == 0 || revoked != wave.Sessions {
					t.Errorf("the wave revoked %d sessions, the backend holds %d revoked", wave.Sessions, revoked)
				}
				if be.KeyID() == kid {
					t.Error("the key did not rotate")
				}
				return
			}
			for _, ev := range []reports.Event{wave, rotation} {
				if !strings.Contains(ev.Error, backend.CodeAdminTokenInvalid) {
					t.Errorf("%s: error %q, want the target's %s", ev.Type, ev.Error, backend.CodeAdminTokenInvalid)
				}
			}
			if revoked != 0 || be.KeyID() != kid {
				t.Errorf("refused events acted: %d sessions revoked, key rotated %v", revoked, be.KeyID() != kid)
			}
		})
	}
}

// TestRunDoesNotFollowRedirects runs against a target whose every endpoint
// redirects to itself: each sign-in is one request, answered 302 and
// classified other, and the run completes.
func TestRunDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks.json" {
			_, _ = io.WriteString(w, `{"keys":[]}`) // the preflight passes
			return
		}
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound) // a loop
	}))
	defer target.Close()
	out := t.TempDir()
	code, _, stderr := runCLI(context.Background(), "run", "--target", target.URL, "--clients", "5",
		"--duration", "1s", "--ramp", "200ms", "--time-scale", "60", "--out", out, "--quiet")
	// The run completes; no client signed in, so no API request was made:
	// the invariants over API requests have no data, and no data is not a pass.
	if code != exitThresholds || !strings.Contains(stderr, "requests.lost == 0 (value 0: no API request was made") {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	si := res.Ops[reports.OpSignIn]
	if si == nil || si.Count == 0 || si.Errors["other"] != si.Count {
		t.Fatalf("sign-ins %+v: want every one of class other", si)
	}
	if hits.Load() != si.Count {
		t.Errorf("the target saw %d requests for %d sign-ins: redirects were followed", hits.Load(), si.Count)
	}
}
