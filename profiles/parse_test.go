package profiles

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles/threshold"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parser's output")

// TestGoldenErrors pins the messages for every bad profile in testdata:
// testdata/NAME.yaml must fail with exactly testdata/NAME.golden.
func TestGoldenErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	located := regexp.MustCompile(`^testdata/[a-z_]+\.yaml:\d+: `)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			p, err := LoadFile(file)
			if err == nil {
				t.Fatalf("%s parsed without error: %+v", file, p)
			}
			if !reflect.DeepEqual(p, Profile{}) {
				t.Errorf("an invalid profile came back non-zero: %+v", p)
			}
			got := err.Error() + "\n"
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				if !located.MatchString(line) {
					t.Errorf("line does not start with FILE:LINE: %q", line)
				}
			}
			if n, fes := strings.Count(got, "\n"), FieldErrors(err); n != len(fes) {
				t.Errorf("%d lines but %d *FieldError", n, len(fes))
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./profiles -run TestGoldenErrors -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s: messages changed (go test -update rewrites them)\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

func TestDefaultYAMLIsDefault(t *testing.T) {
	p, err := Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, Default()) {
		t.Fatalf("builtin/default.yaml differs from Default():\n%+v\n%+v", p, Default())
	}
	if q, err := Builtin(""); err != nil || !reflect.DeepEqual(q, p) {
		t.Fatalf(`Builtin("") = %+v, %v; want default`, q, err)
	}
}

func TestUnspecifiedFieldsTakeDefaults(t *testing.T) {
	p, err := Parse("mine.yaml", []byte("clients: 10\nsdk:\n  retry:\n    base: 2s\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Name, want.Description = "mine", ""
	want.Clients = 10
	want.SDK.Retry.Base = Duration(2 * time.Second)
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
}

func TestBuiltinsParseAndValidate(t *testing.T) {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	names := BuiltinNames()
	if !slices.Equal(slices.Sorted(slices.Values(names)), files) {
		t.Fatalf("BuiltinNames %v, embedded files %v", names, files)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			if p.Name != name {
				t.Errorf("name %q in builtin/%s.yaml", p.Name, name)
			}
			lines := strings.Split(p.Description, "\n")
			if len(lines) < 3 || !strings.HasPrefix(lines[len(lines)-2], "Look at ") || !strings.HasPrefix(lines[len(lines)-1], "Gated by ") {
				t.Errorf("description must say what it shows, then \"Look at\" the result fields, then \"Gated by\" what gates it: %q", p.Description)
			}
			// It names every invariant that gates it and every threshold it sets.
			for _, inv := range []string{"requests.lost", "requests.retry_loops", "requests.stale_token_retries", "herd.duplicate_refreshes"} {
				if !strings.Contains(lines[len(lines)-1], inv) {
					t.Errorf("the gates line does not name %s: %q", inv, lines[len(lines)-1])
				}
			}
			for _, th := range p.Thresholds {
				if !strings.Contains(lines[len(lines)-1], th.Expr) {
					t.Errorf("the gates line does not name threshold %q", th.Expr)
				}
			}
			src, _ := BuiltinSource(name)
			if !strings.Contains(string(src), "#") {
				t.Errorf("builtin/%s.yaml has no comment", name)
			}
			// The effect shows within about a minute of wall time, and
			// every event is placed as a share so --duration keeps it.
			for i, e := range p.Events {
				if e.At.Share == 0 {
					t.Errorf("events[%d].at = %s; built-ins place events as shares of the run", i, e.At)
				}
				if start := p.WallOffset(e.At); start > time.Minute {
					t.Errorf("events[%d] starts %s into the run", i, start)
				}
			}
			if name != "soak" && p.Duration.D() > 2*time.Minute {
				t.Errorf("runs %s", p.Duration)
			}
			if name != "default" && p.Clients > 1000 && p.Backend.Signing == "RS256" {
				t.Errorf("%d clients signing RS256 would saturate a 2-core machine", p.Clients)
			}
		})
	}
}

func TestSoakExpiresSessions(t *testing.T) {
	p, err := Builtin("soak")
	if err != nil {
		t.Fatal(err)
	}
	simulated := time.Duration(float64(p.Duration) * p.TimeScale)
	if n := simulated / p.Backend.MaxLifetime.D(); n < 3 {
		t.Fatalf("%s simulated with %s sessions: each expires %d times, want several", simulated, p.Backend.MaxLifetime, n)
	}
}

func TestBuiltinSourceKeepsComments(t *testing.T) {
	src, err := BuiltinSource("elevator")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "# elevator") {
		t.Fatalf("source does not start with its comment: %.40q", src)
	}
	if _, err := BuiltinSource("nope"); err == nil || !strings.Contains(err.Error(), "steady") {
		t.Fatalf("want an error listing the built-ins, got %v", err)
	}
}

func TestThresholds(t *testing.T) {
	p, err := Parse("t.yaml", []byte("thresholds:\n  - refresh.p99 < 250ms\n  - {expr: requests.lost == 0, abort_on_fail: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Threshold{{Expr: "refresh.p99 < 250ms"}, {Expr: "requests.lost == 0", AbortOnFail: true}}
	if !reflect.DeepEqual(p.Thresholds, want) {
		t.Fatalf("got %+v, want %+v", p.Thresholds, want)
	}
}

func TestThresholdsOfEveryKindParse(t *testing.T) {
	src := "thresholds:\n" +
		"  - refresh.p99 < 250ms\n" +
		"  - api.p95<=1.5s\n" +
		"  - refresh.error_rate < 1%\n" +
		"  - herd.retries_share <= 0.05\n" +
		"  - {expr: requests.lost == 0, abort_on_fail: true}\n" +
		"  - herd.peak_to_mean < 4\n" +
		"  - sign_in.errors.http_429 != 0\n" +
		"  - engine.lag_p99 < 20\n"
	p, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Thresholds) != 8 || p.Thresholds[3].Expr != "herd.retries_share <= 0.05" || !p.Thresholds[4].AbortOnFail {
		t.Fatalf("thresholds %+v", p.Thresholds)
	}
}

func TestThresholdGrammarErrorsNameFileLineAndField(t *testing.T) {
	src := "name: gates\n" + // 1
		"thresholds:\n" + // 2
		"  - refresh.p99 < 250ms\n" + // 3: fine
		"  - latency < 250ms\n" + // 4: unknown metric
		"  - {expr: \"refresh.p99 < 250us\", abort_on_fail: true}\n" + // 5: unknown unit
		"  - refresh.p99 < 1%\n" + // 6: a unit that does not fit
		"  - requests.lost == 0\n" // 7: fine
	_, err := Parse("gates.yaml", []byte(src))
	fes := FieldErrors(err)
	want := []struct {
		line   int
		path   string
		column int
		reason string
	}{
		{4, "thresholds[1].expr", 1, `unknown metric "latency" at column 1; metrics: {sign_in,refresh,`},
		{5, "thresholds[2].expr", 18, `unknown unit "us" at column 18 (want ms, s or %)`},
		{6, "thresholds[3].expr", 16, `unit "%" at column 16 does not fit refresh.p99, which is a latency (want ms or s)`},
	}
	if len(fes) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(fes), len(want), err)
	}
	for i, w := range want {
		fe := fes[i]
		if fe.File != "gates.yaml" || fe.Line != w.line || fe.Path != w.path {
			t.Errorf("problem %d at %s:%d %s, want gates.yaml:%d %s", i, fe.File, fe.Line, fe.Path, w.line, w.path)
		}
		var te *threshold.Error
		if !errors.As(fe, &te) || te.Column != w.column {
			t.Errorf("problem %d does not unwrap to the grammar's error at column %d: %#v", i, w.column, fe.Err)
			continue
		}
		prefix := fmt.Sprintf("gates.yaml:%d: %s: threshold %q: %s", w.line, w.path, te.Expr, w.reason)
		if !strings.HasPrefix(fe.Error(), prefix) || strings.Contains(fe.Error(), "\n") {
			t.Errorf("problem %d:\n got %q\nwant %q...", i, fe.Error(), prefix)
		}
	}
}

func TestValidateChecksThresholdsOfAProfileBuiltInGo(t *testing.T) {
	p := Default()
	p.Thresholds = []Threshold{{Expr: "refresh.p99 < 250ms"}, {Expr: "herd.peak_to_mean < 4x"}, {Expr: " "}}
	fes := FieldErrors(p.Validate())
	if len(fes) != 2 {
		t.Fatalf("got %v, want two problems", fes)
	}
	if got := fes[0].Error(); got != `thresholds[1].expr: threshold "herd.peak_to_mean < 4x": unknown unit "x" at column 22 (want ms, s or %)` {
		t.Errorf("got %q", got)
	}
	if got := fes[1].Error(); got != `thresholds[2].expr: is required: METRIC OP VALUE such as "refresh.p99 < 250ms"` {
		t.Errorf("got %q", got)
	}
}

func TestSDKPresetThenExplicitFields(t *testing.T) {
	// The preset comes first whatever its place in the mapping; the fields
	// given override it, the others keep the preset's values.
	for _, src := range []string{
		"sdk:\n  preset: clerk\n  token_mode: blocking\n  retry:\n    base: 5s\n",
		"sdk:\n  retry:\n    base: 5s\n  token_mode: blocking\n  preset: clerk\n",
	} {
		p, err := Parse("p.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := SDKPreset(SDKClerk)
		want.TokenMode = TokenModeBlocking
		want.Retry.Base = Duration(5 * time.Second)
		if !reflect.DeepEqual(p.SDK, want) {
			t.Errorf("%q:\ngot  %+v\nwant %+v", src, p.SDK, want)
		}
	}
}

func TestNetworkPresetThenExplicitFields(t *testing.T) {
	p, err := Parse("p.yaml", []byte("network:\n  loss: 0.05\n  preset: firefox-regular-3g\n"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NetworkPreset("firefox-regular-3g")
	want.Loss = 0.05
	if p.Network != want {
		t.Fatalf("got %+v, want %+v", p.Network, want)
	}
	if p.Network.Latency.D() != 100*time.Millisecond || p.Network.DownKbps != 768 {
		t.Fatalf("preset figures not applied: %+v", p.Network)
	}
}

func TestSDKPresets(t *testing.T) {
	sec := func(n float64) Duration { return Duration(n * float64(time.Second)) }
	clerk, _ := SDKPreset(SDKClerk)
	if clerk.RefreshAhead != sec(17) || clerk.StaleWindow != sec(15) || clerk.TokenMode != TokenModeSWR || !clerk.RefreshOnReconnect ||
		clerk.Retry.Base != sec(3) || clerk.Retry.Multiplier != 1.55 || clerk.Retry.Cap != sec(50) || clerk.Retry.Jitter != JitterNone || clerk.Retry.MaxRetries != 8 {
		t.Errorf("clerk: %+v", clerk)
	}
	fb, _ := SDKPreset(SDKFirebase)
	if fb.RefreshAhead != sec(300) || fb.StaleWindow != sec(30) || fb.TokenMode != TokenModeBlocking ||
		!fb.Retry.NetworkOnly || fb.Retry.Base != sec(30) || fb.Retry.Multiplier != 2 || fb.Retry.Cap != sec(16*60) || fb.Retry.Jitter != JitterNone {
		t.Errorf("firebase: %+v", fb)
	}
	a0, _ := SDKPreset(SDKAuth0SPA)
	if a0.RefreshAhead != sec(60) || a0.StaleWindow != sec(60) || a0.TokenMode != TokenModeBlocking || a0.Retry.MaxRetries != 0 {
		t.Errorf("auth0-spa: %+v", a0)
	}
	if c, _ := SDKPreset(SDKCustom); !reflect.DeepEqual(c, Default().SDK) {
		t.Errorf("custom %+v != Default().SDK", c)
	}
	if _, ok := SDKPreset("okta"); ok {
		t.Error("okta is not a preset")
	}
	for _, name := range SDKPresetNames() {
		p := Default()
		p.SDK, _ = SDKPreset(name)
		p.Backend.TokenLifetime = Duration(time.Hour) // firebase assumes 1 h tokens
		if err := p.Validate(); err != nil {
			t.Errorf("%s with 1 h tokens: %v", name, err)
		}
	}
}

func TestPresetRefreshAheadRuleHolds(t *testing.T) {
	p := Default()
	p.SDK, _ = SDKPreset(SDKFirebase)
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "sdk.refresh_ahead: must be shorter than backend.token_lifetime (1m0s), got 5m0s (the firebase preset's figure)") {
		t.Fatalf("want the refresh-ahead rule with the preset named, got %v", err)
	}
}

func TestNetworkPresets(t *testing.T) {
	seen := map[string]bool{}
	for _, np := range NetworkPresets() {
		if seen[np.Name] || np.Source == "" {
			t.Errorf("%s: duplicate or without a source", np.Name)
		}
		seen[np.Name] = true
		p := Default()
		p.Network, _ = NetworkPreset(np.Name)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", np.Name, err)
		}
	}
	for name, want := range map[string]Network{
		"chrome-slow-3g":     {Latency: ms(400), DownKbps: 500, UpKbps: 500},
		"chrome-slow-4g":     {Latency: ms(150), DownKbps: 1600, UpKbps: 750},
		"chrome-fast-4g":     {Latency: ms(60), DownKbps: 9000, UpKbps: 1500},
		"firefox-gprs":       {Latency: ms(500), DownKbps: 51.2, UpKbps: 20.48},
		"firefox-regular-3g": {Latency: ms(100), DownKbps: 768, UpKbps: 256},
		"firefox-good-3g":    {Latency: ms(40), DownKbps: 1572.864, UpKbps: 768},
		"firefox-lte":        {Latency: ms(20), DownKbps: 4194.304, UpKbps: 3145.728},
		"nlc-3g":             {Latency: ms(200), DownKbps: 780, UpKbps: 330},
		"nlc-edge":           {Latency: ms(840), DownKbps: 240, UpKbps: 200},
		"nlc-100-loss":       {Loss: 1},
	} {
		got, ok := NetworkPreset(name)
		want.Preset = name
		if !ok || got.Preset != name || got.Latency != want.Latency || got.Loss != want.Loss ||
			!near(got.DownKbps, want.DownKbps) || !near(got.UpKbps, want.UpKbps) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	if n, ok := NetworkPreset(""); !ok || n != (Network{}) {
		t.Errorf(`"" should be the unimpaired link`)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestShareFollowsDuration(t *testing.T) {
	src := []byte("duration: 60s\nevents:\n  - type: key_rotation\n    at: 50%\n  - type: key_rotation\n    at: 1m\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := ResolveWith(file, func(p *Profile) { p.Duration = Duration(4 * time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	if got := p.WallOffset(p.Events[0].At); got != 2*time.Minute {
		t.Errorf("at 50%% of a 4 min run = %s, want 2m", got)
	}
	if got := p.WallOffset(p.Events[1].At); got != 6*time.Second {
		t.Errorf("at 1m simulated at ×10 = %s, want 6s", got)
	}
	// Shortening the run past an absolute time is reported at the event's line.
	_, err = ResolveWith(file, func(p *Profile) { p.Duration, p.Ramp = Duration(5*time.Second), 0 })
	if err == nil || err.Error() != file+`:6: events[1].at: starts at 6s, after the end of the run (5s): at 1m0s is simulated time, divided by time_scale 10; give an earlier at, a share such as "50%", or a longer duration` {
		t.Fatalf("got %v", err)
	}
}

func TestResolve(t *testing.T) {
	if p, err := Resolve("elevator"); err != nil || p.Name != "elevator" {
		t.Fatalf("built-in: %+v, %v", p.Name, err)
	}
	if p, err := Resolve(""); err != nil || p.Name != "default" {
		t.Fatalf(`"": %+v, %v`, p.Name, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "mine")
	if err := os.WriteFile(file, []byte("clients: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Resolve(file); err != nil || p.Clients != 7 || p.Name != "mine" {
		t.Fatalf("existing file: %+v, %v", p, err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Resolve(missing); err == nil || !strings.Contains(err.Error(), missing) || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("missing .yaml: %v", err)
	}
	if _, err := Resolve("elevatr"); err == nil || !strings.Contains(err.Error(), "elevator") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("unknown name: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestExampleProfileValidates(t *testing.T) {
	p, err := LoadFile("../examples/profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, e := range p.Events {
		types[e.Type] = true
	}
	for _, typ := range EventTypes() {
		if !types[typ] {
			t.Errorf("the example has no %s event", typ)
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Line: 3, Path: "sdk.retry.base", Message: "m"}, "a.yaml:3: sdk.retry.base: m"},
		{FieldError{Path: "clients", Message: "m"}, "clients: m"},
		{FieldError{File: "a.yaml", Path: "ramp", Message: "m"}, "a.yaml: ramp: m"},
		{FieldError{File: "a.yaml", Line: 1, Message: "m"}, "a.yaml:1: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestValidateGoProfile(t *testing.T) {
	ok := []Event{
		{Type: EventOutage, At: At{Share: 0.5}, Duration: Duration(time.Minute), Fraction: 0.2, Mode: OutageBlackhole},
		{Type: EventKeyRotation, At: At{Offset: Duration(time.Minute)}, Overlap: true},
		{Type: EventRevocationWave, At: At{Share: 0.1}, Fraction: 1},
		{Type: EventBrownout, At: At{Share: 0.1}, Duration: Duration(time.Minute), Rate503: 1},
		{Type: EventSpurious401, At: At{Share: 0.1}, Duration: Duration(time.Minute), Rate: 0.01},
		{Type: EventClockSkew, At: At{Share: 0.1}, DeviceOffset: Duration(-time.Minute), Fraction: 0.5},
		{Type: EventClientTokenRotation, At: At{Share: 0.1}},
	}
	p := Default()
	p.Events = ok
	if err := p.Validate(); err != nil {
		t.Fatalf("valid events: %v", err)
	}
	for _, tc := range []struct {
		mutate func(*Profile)
		want   string
	}{
		{func(p *Profile) { p.Events[0].Overlap = true }, "events[0].overlap: does not apply to an outage event"},
		{func(p *Profile) { p.Events[1].Grace = 1 }, "events[1].grace: does not apply to a key_rotation event (its fields: type, at, overlap)"},
		{func(p *Profile) { p.Events[2].Fraction = 0 }, "events[2].fraction: is required"},
		{func(p *Profile) { p.Events[3].Rate503 = 0 }, "events[3]: a brownout needs at least one of latency, rate_429 or rate_503"},
		{func(p *Profile) { p.Events[4].At = At{Share: 1.5} }, "events[4].at: a share of the run must be more than 0% and at most 100%"},
		{func(p *Profile) { p.Events[5].Fraction = 0 }, "events[5].fraction: is required"},
		{func(p *Profile) { p.Events[6].Grace = Duration(-time.Second) }, "events[6].grace: must not be negative"},
		{func(p *Profile) { p.Network.Preset = "5g" }, "network.preset: must be one of none, chrome-slow-3g"},
		{func(p *Profile) { p.SDK.Preset = "okta" }, "sdk.preset: must be one of clerk, firebase, auth0-spa, custom"},
		{func(p *Profile) { p.App.Lifecycle.Model = "" }, "app.lifecycle.model: is required: one of foreground, background_foreground"},
	} {
		q := Default()
		q.Events = slices.Clone(ok)
		tc.mutate(&q)
		err := q.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("want one problem %q, got %v", tc.want, err)
		}
		if fe := FieldErrors(err); len(fe) == 1 && (fe[0].File != "" || fe[0].Line != 0) {
			t.Errorf("a Go-built profile has no file: %+v", fe[0])
		}
	}
}

func TestAliasesAreBounded(t *testing.T) {
	// A recursive alias is an error, not a hang.
	if _, err := Parse("loop.yaml", []byte("sdk: &a\n  retry: *a\n")); err == nil {
		t.Fatal("want an error for a self-referencing alias")
	}
	// An alias used many times is read each time, within a bound.
	src := "e: &e {type: key_rotation, at: 1%}\nevents: [" + strings.Repeat("*e, ", 999) + "*e]\n"
	if _, err := Parse("many.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "many.yaml:1: e: unknown field") {
		t.Fatalf("got %v", err)
	}
}
