package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// writeProfile writes a profile file in a temporary directory and returns its path.
func writeProfile(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProfilesList(t *testing.T) {
	code, stdout, stderr := runCLI(context.Background(), "profiles", "list")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(profiles.BuiltinNames())+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("want a header and one line per built-in:\n%s", stdout)
	}
	for i, name := range profiles.BuiltinNames() {
		p, _ := profiles.Builtin(name)
		first, _, _ := strings.Cut(p.Description, "\n")
		if f := strings.Fields(lines[i+1]); f[0] != name || !strings.HasSuffix(lines[i+1], first) {
			t.Errorf("line %q: want %s and %q", lines[i+1], name, first)
		}
	}
}

func TestProfilesShow(t *testing.T) {
	code, stdout, _ := runCLI(context.Background(), "profiles", "show", "elevator")
	want, _ := profiles.BuiltinSource("elevator")
	if code != exitOK || stdout != string(want) {
		t.Fatalf("exit %d, stdout:\n%s\nwant the source as shipped:\n%s", code, stdout, want)
	}
	code, stdout, stderr := runCLI(context.Background(), "profiles", "show", "elevatr")
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, `"elevatr"`) || !strings.Contains(stderr, "elevator") {
		t.Fatalf("unknown name: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, _ := runCLI(context.Background(), "profiles", "show"); code != exitUsage {
		t.Fatalf("no name: exit %d, want 2", code)
	}
}

func TestProfilesValidate(t *testing.T) {
	good := writeProfile(t, "good.yaml", "clients: 10\nevents:\n  - type: key_rotation\n    at: 50%\n")
	bad := writeProfile(t, "bad.yaml", "clients: none\nsdk:\n  retry:\n    basee: 2s\nevents:\n  - type: revocation_wave\n    at: 50%\n    fraction: 2\n")
	example := filepath.Join("..", "..", "examples", "profile.yaml")

	code, stdout, stderr := runCLI(context.Background(), "profiles", "validate", good, example)
	if code != exitOK || stderr != "" || stdout != good+": ok\n"+example+": ok\n" {
		t.Fatalf("valid files: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(context.Background(), "profiles", "validate", good, bad)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	if stdout != good+": ok\n" {
		t.Errorf("stdout %q", stdout)
	}
	want := bad + ":1: clients: want a whole number, got \"none\"\n" +
		bad + ":4: sdk.retry.basee: unknown field (did you mean \"base\"?); fields of sdk.retry: base, cap, multiplier, jitter, spread, max_retries, max_retries_offline, network_only\n" +
		bad + ":8: events[0].fraction: must be more than 0 and at most 1 (a share of the active sessions revoked), got 2\n" +
		"stampede: invalid profiles: 1 of 2\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}

	if code, _, stderr := runCLI(context.Background(), "profiles", "validate"); code != exitUsage || stderr == "" {
		t.Fatalf("no file: exit %d, stderr %q", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	if code, _, stderr := runCLI(context.Background(), "profiles", "validate", missing); code != exitUsage || !strings.Contains(stderr, missing) {
		t.Fatalf("missing file: exit %d, stderr %q", code, stderr)
	}
}

func TestProfilesValidateChecksThresholds(t *testing.T) {
	good := writeProfile(t, "gates.yaml", "thresholds:\n  - refresh.p99 < 250ms\n  - {expr: \"requests.lost == 0\", abort_on_fail: true}\n  - herd.peak_to_mean<4\n  - refresh.error_rate < 1%\n")
	bad := writeProfile(t, "bad-gates.yaml", "name: bad-gates\n"+ // 1
		"clients: 0\n"+ // 2
		"thresholds:\n"+ // 3
		"  - refresh.p99 < 250ms\n"+ // 4
		"  - refresh.p99 < 250 msec\n"+ // 5
		"  - {expr: \"request.lost == 0\", abort_on_fail: true}\n"+ // 6
		"  - herd.peak_to_mean < 4%\n") // 7

	code, stdout, stderr := runCLI(context.Background(), "profiles", "validate", good)
	if code != exitOK || stderr != "" || stdout != good+": ok\n" {
		t.Fatalf("good thresholds: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(context.Background(), "profiles", "validate", bad)
	if code != exitUsage || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := []string{
		bad + ":2: clients: must be at least 1, got 0",
		bad + `:5: thresholds[1].expr: threshold "refresh.p99 < 250 msec": unknown unit "msec" at column 19 (want ms, s or %)`,
		bad + `:6: thresholds[2].expr: threshold "request.lost == 0": unknown metric "request.lost" at column 1 (did you mean "requests.lost"?); metrics: {sign_in,refresh,`,
		bad + `:7: thresholds[3].expr: threshold "herd.peak_to_mean < 4%": unit "%" at column 22 does not fit herd.peak_to_mean, which is a ratio (want a plain number)`,
		"stampede: invalid profiles: 1 of 1",
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d lines, got %d:\n%s", len(want), len(lines), stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
}

func TestRunInvalidProfileFileExitsTwoNamingFileAndLine(t *testing.T) {
	bad := writeProfile(t, "bad.yaml", "name: bad\nclients: -3\nnetwork:\n  preset: 5g\n")
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", bad, "--out", t.TempDir(), "--quiet")
	if code != exitUsage || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 2", code, stdout)
	}
	for _, w := range []string{bad + ":2: clients: must be at least 1, got -3", bad + ":4: network.preset: must be one of none, chrome-slow-3g"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
	if strings.Contains(stderr, "stampede run ") {
		t.Errorf("the run started: %q", stderr)
	}
	// A flag that fixes the field is not blamed on the file.
	code, _, stderr = runCLI(context.Background(), "run", "-p", bad, "--clients", "0", "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "--clients: must be at least 1, got 0") || strings.Contains(stderr, "clients: must be at least 1, got -3") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunFlagsOverrideTheProfileFile(t *testing.T) {
	file := writeProfile(t, "mine.yaml", "clients: 50\nduration: 30s\nramp: 5s\nseed: 7\nevents:\n  - type: key_rotation\n    at: 50%\n  - type: key_rotation\n    at: 2m\n")
	given := map[string]bool{"clients": true}
	o := &runOptions{profile: file, clients: 9, duration: time.Second, seed: 1,
		flags: func(name string) bool { return given[name] }}
	p, err := o.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if p.Clients != 9 || p.Duration.D() != 30*time.Second || p.Seed != 7 || p.Name != "mine" {
		t.Fatalf("got clients %d duration %s seed %d name %q; want the flag given and the file's other values",
			p.Clients, p.Duration, p.Seed, p.Name)
	}
	// --duration moves the 50% event with it, and an absolute event time
	// that now falls after the end is reported at its line in the file.
	given["duration"] = true
	o.duration = 10 * time.Second
	_, err = o.resolve()
	if exitCode(err) != exitUsage || err.Error() != file+`:9: events[1].at: starts at 12s, after the end of the run (10s): at 2m0s is simulated time, divided by time_scale 10; give an earlier at, a share such as "50%", or a longer duration` {
		t.Fatalf("got %v", err)
	}
}
