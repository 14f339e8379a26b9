package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// TestRunSetReachesTheResult runs a small fleet with --set overrides and
// finds them in result.json's profile.
func TestRunSetReachesTheResult(t *testing.T) {
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
	code, _, stderr := runCLI(context.Background(), "run", "--target", srv.URL,
		"--set", "sdk.interceptor=naive", "--set", "app.burst=3", "--set", "sdk.retry={jitter: full, max_retries: 2}",
		"--set", "clients=500", // the --clients flag wins over --set
		"--clients", "20", "--duration", "1s", "--ramp", "200ms", "--time-scale", "60", "--out", out, "--no-progress", "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Profile
	if p.SDK.Interceptor != profiles.InterceptorNaive || p.App.Burst != 3 || p.Clients != 20 ||
		p.SDK.Retry.Jitter != profiles.JitterFull || p.SDK.Retry.MaxRetries != 2 || p.SDK.Retry.Base != profiles.Default().SDK.Retry.Base {
		t.Errorf("result profile: interceptor %q, burst %d, clients %d, retry %+v", p.SDK.Interceptor, p.App.Burst, p.Clients, p.SDK.Retry)
	}
}

func TestRunSetBadExitsTwoNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // the lines of stderr, each after "stampede: ": the other flags', then --set's in order
	}{
		{[]string{"--set", "nope=1"}, []string{
			"--set nope=1: unknown field; profile fields: name, description, clients, duration, ramp, time_scale, seed, connections, http_version, sdk, app, network, events, backend, tls_resumption, target, thresholds, invariants, stages, stage_leave, backend_model"}},
		{[]string{"--set", "connections=pooled"}, []string{
			`--set connections=pooled: must be one of shared, per_client, got "pooled"`}},
		{[]string{"--set", "sdk.interceptor"}, []string{
			"--set sdk.interceptor: want path=value, such as --set sdk.interceptor=naive or --set events[0].fraction=0.5"}},
		{[]string{"--set", "sdk.interceptor=foo"}, []string{
			`--set sdk.interceptor=foo: must be one of single_flight, naive, retry_once, bug_unsettled_queue, bug_no_retry_flag, bug_stuck_flag, bug_stale_retry, got "foo"`}},
		{[]string{"--set", "app.burst=0"}, []string{
			"--set app.burst=0: must be from 1 to 1000 (API calls fired at once per screen load; 1 is one call at a time), got 0"}},
		{[]string{"--set", "sdk.retry.base=5"}, []string{
			`--set sdk.retry.base=5: want a Go duration such as "90s", "5m" or "1h30m", got 5 (a number needs a unit: "5s")`}},
		{[]string{"--set", "events[0].fraction=0.5"}, []string{
			"--set events[0].fraction=0.5: events[0]: out of range: events has no items (give events[0] whole to add one)"}},
		{[]string{"--set", "events[0]={type: outage, at: 50%, fraction: 2, duration: 1m, mode: fail_fast}"}, []string{
			"--set events[0]={type: outage, at: 50%, fraction: 2, duration: 1m, mode: fail_fast}: events[0].fraction: must be more than 0 and at most 1 (a share of the clients that go offline), got 2"}},
		// A rule another field's --set breaks names that --set.
		{[]string{"--set", "sdk.preset=firebase"}, []string{
			"--set sdk.preset=firebase: sdk.refresh_ahead: must be shorter than backend.token_lifetime (1m0s), got 5m0s (the firebase preset's figure): give a longer backend.token_lifetime or your own sdk.refresh_ahead"}},
		{[]string{"--set", "duration=5s"}, []string{
			"--set duration=5s: ramp: must not exceed duration (5s), got 10s"}},
		// The last --set of a field is the one that counts.
		{[]string{"--set", "clients=0", "--set", "clients=-1"}, []string{
			"--set clients=-1: must be at least 1, got -1"}},
		// Every problem at once, with the other flags'.
		{[]string{"--clients", "0", "--set", "sdk.interceptor", "--set", "nope=1", "--set", "app.burst=lots", "--set", "sdk.interceptor=foo"}, []string{
			"--clients: must be at least 1, got 0",
			"--set sdk.interceptor: want path=value, such as --set sdk.interceptor=naive or --set events[0].fraction=0.5",
			"--set nope=1: unknown field; profile fields: name, description, clients, duration, ramp, time_scale, seed, connections, http_version, sdk, app, network, events, backend, tls_resumption, target, thresholds, invariants, stages, stage_leave, backend_model",
			`--set app.burst=lots: want a whole number, got "lots"`,
			`--set sdk.interceptor=foo: must be one of single_flight, naive, retry_once, bug_unsettled_queue, bug_no_retry_flag, bug_stuck_flag, bug_stale_retry, got "foo"`,
		}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"run", "--out", t.TempDir()}, tc.args...)
			code, stdout, stderr := runCLI(context.Background(), args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				got = append(got, strings.TrimPrefix(line, "stampede: "))
			}
			if want := tc.want; !slices.Equal(got, want) {
				t.Errorf("stderr lines\n got  %q\n want %q", got, want)
			}
		})
	}
}

func TestResolveSetOrderAndValidation(t *testing.T) {
	resolve := func(t *testing.T, profile string, sets []string, flags ...string) (profiles.Profile, error) {
		t.Helper()
		o := &runOptions{profile: profile, sets: sets, clients: 7, seed: 9,
			flags: func(name string) bool { return slices.Contains(flags, name) }}
		return o.resolve()
	}
	// --set applies in order, then the dedicated flags.
	p, err := resolve(t, "interceptor-race", []string{"clients=50", "seed=3", "sdk.interceptor=naive", "sdk.interceptor=bug_stale_retry"}, "clients")
	if err != nil {
		t.Fatal(err)
	}
	if p.Clients != 7 || p.Seed != 3 || p.SDK.Interceptor != profiles.InterceptorBugStaleRetry || p.App.Burst != 5 {
		t.Errorf("clients %d, seed %d, interceptor %q, burst %d", p.Clients, p.Seed, p.SDK.Interceptor, p.App.Burst)
	}
	// The profile is validated after the overrides: a --set can mend it,
	// and the profile's own problems keep their file and line.
	file := writeProfile(t, "mine.yaml", "clients: 0\napp:\n  burst: 0\n")
	if p, err := resolve(t, file, []string{"clients=10", "app.burst=2"}); err != nil || p.Clients != 10 || p.App.Burst != 2 {
		t.Fatalf("mended: %+v, %v", p, err)
	}
	_, err = resolve(t, file, []string{"clients=10"})
	if err == nil || exitCode(err) != exitUsage || err.Error() != file+":3: app.burst: must be from 1 to 1000 (API calls fired at once per screen load; 1 is one call at a time), got 0" {
		t.Fatalf("got %v", err)
	}
	// Every strategy runs on interceptor-race.
	for _, name := range profiles.Interceptors() {
		if _, err := resolve(t, "interceptor-race", []string{"sdk.interceptor=" + name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
