package profiles

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// withEvents is Default() with an outage and a key rotation.
func withEvents() Profile {
	p := Default()
	p.Events = []Event{
		{Type: EventOutage, At: At{Share: 0.4}, Duration: Duration(time.Minute), Fraction: 0.3, Mode: OutageBlackhole},
		{Type: EventKeyRotation, At: At{Share: 0.5}},
	}
	return p
}

func TestSet(t *testing.T) {
	sec := func(n float64) Duration { return Duration(n * float64(time.Second)) }
	for _, tc := range []struct {
		path, value string
		want        func(*Profile)
	}{
		{"clients", "20", func(p *Profile) { p.Clients = 20 }},
		{"seed", "18446744073709551615", func(p *Profile) { p.Seed = 1<<64 - 1 }},
		{"time_scale", "2.5", func(p *Profile) { p.TimeScale = 2.5 }},
		{"connections", "per_client", func(p *Profile) { p.Connections = ConnectionsPerClient }},
		{"duration", "90s", func(p *Profile) { p.Duration = sec(90) }},
		{"description", "text: kept as it is, # too", func(p *Profile) { p.Description = "text: kept as it is, # too" }},
		{"sdk.interceptor", "naive", func(p *Profile) { p.SDK.Interceptor = InterceptorNaive }},
		{"sdk.token_mode", "blocking", func(p *Profile) { p.SDK.TokenMode = TokenModeBlocking }},
		{"sdk.offline_cache", "true", func(p *Profile) { p.SDK.OfflineCache = true }},
		{"sdk.retry.jitter", "full", func(p *Profile) { p.SDK.Retry.Jitter = JitterFull }},
		{"sdk.retry.base", "250ms", func(p *Profile) { p.SDK.Retry.Base = Duration(250 * time.Millisecond) }},
		{"sdk.retry.max_retries", "0", func(p *Profile) { p.SDK.Retry.MaxRetries = 0 }},
		{"sdk.retry", "{base: 2s, network_only: true}", func(p *Profile) { p.SDK.Retry.Base, p.SDK.Retry.NetworkOnly = sec(2), true }},
		{"app.burst", "3", func(p *Profile) { p.App.Burst = 3 }},
		{"app.lifecycle.model", "background_foreground", func(p *Profile) { p.App.Lifecycle.Model = LifecycleBackgroundForeground }},
		{"app.lifecycle.foreground", "{dist: exponential, value: 2m}", func(p *Profile) {
			p.App.Lifecycle.Foreground = Dist{Dist: DistExponential, Value: sec(120)}
		}},
		{"app.lifecycle.background", "3m", func(p *Profile) { p.App.Lifecycle.Background = Dist{Dist: DistFixed, Value: sec(180)} }},
		{"app.lifecycle.background.sigma", "1", func(p *Profile) { p.App.Lifecycle.Background.Sigma = 1 }},
		{"network.loss", "0.05", func(p *Profile) { p.Network.Loss = 0.05 }},
		{"events[0].fraction", "0.5", func(p *Profile) { p.Events[0].Fraction = 0.5 }},
		{"events[0].at", "50%", func(p *Profile) { p.Events[0].At = At{Share: 0.5} }},
		{"events[1].at", "3m", func(p *Profile) { p.Events[1].At = At{Offset: sec(180)} }},
		{"events[1].overlap", "true", func(p *Profile) { p.Events[1].Overlap = true }},
		{"events[1]", "{type: revocation_wave, at: 80%, fraction: 0.1}", func(p *Profile) {
			p.Events[1] = Event{Type: EventRevocationWave, At: At{Share: 0.8}, Fraction: 0.1}
		}},
		{"events[2]", "{type: spurious_401, at: 10%, duration: 1m, rate: 0.2}", func(p *Profile) {
			p.Events = append(p.Events, Event{Type: EventSpurious401, At: At{Share: 0.1}, Duration: sec(60), Rate: 0.2})
		}},
		{"events", "[]", func(p *Profile) { p.Events = nil }},
		{"thresholds[0]", "refresh.p99 < 250ms", func(p *Profile) { p.Thresholds = []Threshold{{Expr: "refresh.p99 < 250ms"}} }},
		{"thresholds", `[requests.lost == 0, {expr: "refresh.p99 < 1s", abort_on_fail: true}]`, func(p *Profile) {
			p.Thresholds = []Threshold{{Expr: "requests.lost == 0"}, {Expr: "refresh.p99 < 1s", AbortOnFail: true}}
		}},
		{"backend.signing", "ES256", func(p *Profile) { p.Backend.Signing = "ES256" }},
		{"backend.inactivity_timeout", "0", func(p *Profile) { p.Backend.InactivityTimeout = 0 }},
	} {
		t.Run(tc.path+"="+tc.value, func(t *testing.T) {
			p, want := withEvents(), withEvents()
			if err := Set(&p, tc.path, tc.value); err != nil {
				t.Fatal(err)
			}
			tc.want(&want)
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("got  %+v\nwant %+v", p, want)
			}
		})
	}
}

func TestSetDoesNotTouchTheOriginalLists(t *testing.T) {
	p := withEvents()
	q := p
	if err := Set(&q, "events[0].fraction", "1"); err != nil {
		t.Fatal(err)
	}
	if p.Events[0].Fraction != 0.3 {
		t.Fatal("Set wrote through to the original profile's events")
	}
}

func TestSetPresetKeepsWhatTheProfileChanged(t *testing.T) {
	p := Default()
	for _, s := range [][2]string{{"sdk.retry.base", "5s"}, {"sdk.interceptor", "naive"}, {"sdk.preset", "clerk"}} {
		if err := Set(&p, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := SDKPreset(SDKClerk)
	want.Retry.Base = Duration(5 * time.Second)
	want.Interceptor = InterceptorNaive
	if !reflect.DeepEqual(p.SDK, want) {
		t.Fatalf("sdk.preset=clerk after base and interceptor:\ngot  %+v\nwant %+v", p.SDK, want)
	}

	// From clerk to firebase: clerk's own figures go, the overrides stay.
	if err := Set(&p, "sdk", "{preset: firebase, refresh_ahead: 20s}"); err != nil {
		t.Fatal(err)
	}
	want, _ = SDKPreset(SDKFirebase)
	want.Retry.Base = Duration(5 * time.Second)
	want.Interceptor = InterceptorNaive
	want.RefreshAhead = Duration(20 * time.Second)
	if !reflect.DeepEqual(p.SDK, want) {
		t.Fatalf("sdk={preset: firebase, ...}:\ngot  %+v\nwant %+v", p.SDK, want)
	}

	p = Default()
	if err := Set(&p, "network.loss", "0.05"); err != nil {
		t.Fatal(err)
	}
	if err := Set(&p, "network.preset", "chrome-slow-3g"); err != nil {
		t.Fatal(err)
	}
	wantN, _ := NetworkPreset("chrome-slow-3g")
	wantN.Loss = 0.05
	if p.Network != wantN {
		t.Fatalf("network.preset after loss: got %+v, want %+v", p.Network, wantN)
	}
	if err := Set(&p, "network.preset", "none"); err != nil {
		t.Fatal(err)
	}
	if want := (Network{Preset: "none", Loss: 0.05}); p.Network != want {
		t.Fatalf("network.preset=none: got %+v, want %+v", p.Network, want)
	}

	// An unknown preset is left to Validate, which lists the presets.
	p = Default()
	if err := Set(&p, "sdk.preset", "okta"); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `sdk.preset: must be one of clerk, firebase, auth0-spa, custom, got "okta"`) {
		t.Fatalf("got %v", err)
	}
}

func TestSetErrors(t *testing.T) {
	for _, tc := range []struct {
		path, value string
		want        []string // each a whole problem, "path: message"
	}{
		{"nope", "1", []string{"nope: unknown field; profile fields: name, description, clients, duration, ramp, time_scale, seed, connections, http_version, sdk, app, network, events, backend, tls_resumption, target, thresholds, invariants, stages, stage_leave, backend_model"}},
		{"sdk.intercepter", "naive", []string{`sdk.intercepter: unknown field (did you mean "interceptor"?); fields of sdk: preset, token_mode, refresh_ahead, stale_window, request_timeout, offline_cache, refresh_on_reconnect, interceptor, retry, token_cache, treat_pending_as_signed_out`}},
		{"app.brust", "2", []string{`app.brust: unknown field (did you mean "burst"?); fields of app: api_calls_per_minute, burst, think_time, lifecycle, sign_in`}},
		{"events[0].rate", "0.1", []string{"events[0].rate: does not apply to an outage event (its fields: type, at, fraction, duration, mode, restore_spread)"}},
		{"events[1].bogus", "1", []string{"events[1].bogus: unknown field; fields of a key_rotation event: type, at, overlap"}},
		{"events[2]", "{type: key_rotation}", []string{`events[2].at: is required: a simulated time from the start such as "3m", or a share of the run such as "50%"`}},
		{"events[3]", "{type: key_rotation, at: 1%}", []string{"events[3]: out of range: events has 2 items, events[0] to events[1] (give events[2] whole to add one)"}},
		{"events[2].fraction", "0.5", []string{"events[2]: out of range: events has 2 items, events[0] to events[1] (give events[2] whole to add one)"}},
		{"thresholds[1]", "x", []string{"thresholds[1]: out of range: thresholds has no items (give thresholds[0] whole to add one)"}},
		{"clients[0]", "1", []string{"clients: is a whole number, not a list: clients[0] has no items"}},
		{"clients.max", "1", []string{"clients: is a whole number, not a section: it has no field max"}},
		{"events[0].at.share", "1", []string{"events[0].at: is an event time, not a section: it has no field share"}},
		{"sdk.retry.base.x", "1", []string{"sdk.retry.base: is a duration, not a section: it has no field x"}},
		{"clients", "lots", []string{`clients: want a whole number, got "lots"`}},
		{"clients", "", []string{"clients: want a whole number, got nothing"}},
		{"sdk.offline_cache", "yes", []string{`sdk.offline_cache: want true or false, got "yes"`}},
		{"sdk.retry.base", "5", []string{`sdk.retry.base: want a Go duration such as "90s", "5m" or "1h30m", got 5 (a number needs a unit: "5s")`}},
		{"network.loss", "a lot", []string{`network.loss: want a number, got "a lot"`}},
		{"events[0].at", "150%", []string{`events[0].at: invalid event time "150%": a share must be more than 0% and at most 100%`}},
		{"app.lifecycle.foreground", "{dist: fixed, valu: 2m}", []string{`app.lifecycle.foreground.valu: unknown field (did you mean "value"?); fields of app.lifecycle.foreground: dist, value, sigma, values`}},
		{"app.lifecycle.foreground", "[2m]", []string{`app.lifecycle.foreground: want a duration such as "2m" (fixed) or {dist: fixed|exponential|lognormal, value: 2m, sigma: 1}, got a list`}},
		{"sdk", "{retry: {base: 1, cap: soon}}", []string{
			`sdk.retry.base: want a Go duration such as "90s", "5m" or "1h30m", got 1 (a number needs a unit: "1s")`,
			`sdk.retry.cap: want a Go duration such as "90s", "5m" or "1h30m", got "soon"`,
		}},
		{"events", "{type: outage}", []string{`events: want a list (each item "- type: ..."), got a mapping`}},
		{"sdk.retry", "{base: 1s", []string{"sdk.retry: invalid YAML value: did not find expected ',' or '}'"}},
		{"", "1", []string{`invalid field path "" (a field name is empty): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"sdk..retry", "1", []string{`invalid field path "sdk..retry" (a field name is empty): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"sdk retry", "1", []string{`invalid field path "sdk retry" (' ' in a field name): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"events[x]", "1", []string{`invalid field path "events[x]" (index "x" is not a whole number from 0): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"events[-1]", "1", []string{`invalid field path "events[-1]" (index "-1" is not a whole number from 0): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"events[0", "1", []string{`invalid field path "events[0" (no closing ]): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
		{"events]0", "1", []string{`invalid field path "events]0" ("]" after events): want the YAML path of a field such as sdk.retry.base or events[0].fraction`}},
	} {
		t.Run(tc.path+"="+tc.value, func(t *testing.T) {
			p := withEvents()
			err := Set(&p, tc.path, tc.value)
			if err == nil {
				t.Fatalf("no error; profile %+v", p)
			}
			var got []string
			for _, fe := range FieldErrors(err) {
				if fe.File != "" || fe.Line != 0 {
					t.Errorf("a --set problem has a file or line: %+v", fe)
				}
				got = append(got, fe.Error())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if !reflect.DeepEqual(p, withEvents()) {
				t.Errorf("the profile changed on error: %+v", p)
			}
		})
	}
}

func TestSetDoesNotValidate(t *testing.T) {
	p := Default()
	for _, s := range [][2]string{{"app.burst", "0"}, {"sdk.interceptor", "eager"}} {
		if err := Set(&p, s[0], s[1]); err != nil {
			t.Fatalf("%s=%s: %v", s[0], s[1], err)
		}
	}
	err := p.Validate()
	for _, want := range []string{
		"app.burst: must be from 1 to 1000 (API calls fired at once per screen load; 1 is one call at a time), got 0",
		`sdk.interceptor: must be one of single_flight, naive, retry_once, bug_unsettled_queue, bug_no_retry_flag, bug_stuck_flag, bug_stale_retry, got "eager"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v; want %q", err, want)
		}
	}
}

func TestSetInsideResolveWith(t *testing.T) {
	var setErr error
	p, err := ResolveWith("interceptor-race", func(p *Profile) {
		setErr = Set(p, "sdk.interceptor", InterceptorBugStuckFlag)
	})
	if err != nil || setErr != nil {
		t.Fatal(err, setErr)
	}
	if p.SDK.Interceptor != InterceptorBugStuckFlag || p.App.Burst != 5 {
		t.Fatalf("interceptor %q, burst %d", p.SDK.Interceptor, p.App.Burst)
	}
	// A value Validate refuses is reported at the field's line of the file.
	src, _ := BuiltinSource("interceptor-race")
	before, _, _ := strings.Cut(string(src), "\n  burst:")
	line := strings.Count(before, "\n") + 2
	_, err = ResolveWith("interceptor-race", func(p *Profile) { _ = Set(p, "app.burst", "1001") })
	if want := fmt.Sprintf("builtin/interceptor-race.yaml:%d: app.burst: must be from 1 to 1000", line); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v", err)
	}
}

func TestInterceptors(t *testing.T) {
	names := Interceptors()
	if len(names) != 7 || names[0] != InterceptorSingleFlight || Default().SDK.Interceptor != InterceptorSingleFlight {
		t.Fatalf("Interceptors() = %v, default %q", names, Default().SDK.Interceptor)
	}
	for _, name := range SDKPresetNames() {
		if s, _ := SDKPreset(name); s.Interceptor != InterceptorSingleFlight {
			t.Errorf("preset %s: interceptor %q", name, s.Interceptor)
		}
	}
	for _, name := range names {
		p := Default()
		p.SDK.Interceptor = name
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, burst := range []int{1, 5, MaxBurst} {
		p := Default()
		p.App.Burst = burst
		if err := p.Validate(); err != nil {
			t.Errorf("burst %d: %v", burst, err)
		}
	}
}

func TestInterceptorRace(t *testing.T) {
	p, err := Builtin("interceptor-race")
	if err != nil {
		t.Fatal(err)
	}
	if p.App.Burst < 2 || p.SDK.Interceptor != InterceptorSingleFlight || p.Backend.Signing != "ES256" {
		t.Fatalf("burst %d, interceptor %q, signing %s", p.App.Burst, p.SDK.Interceptor, p.Backend.Signing)
	}
	// The brownout falls inside the spurious-401 window: refreshes that
	// the interceptor's queue waits on fail there.
	var s401, brown *Event
	for i := range p.Events {
		switch p.Events[i].Type {
		case EventSpurious401:
			s401 = &p.Events[i]
		case EventBrownout:
			brown = &p.Events[i]
		}
	}
	if s401 == nil || brown == nil {
		t.Fatalf("events %+v", p.Events)
	}
	start, end := p.WallOffset(s401.At), p.WallOffset(s401.At)+p.Scale(s401.Duration)
	bStart, bEnd := p.WallOffset(brown.At), p.WallOffset(brown.At)+p.Scale(brown.Duration)
	if bStart <= start || bEnd >= end || end > p.Duration.D() {
		t.Errorf("401 window %s–%s, brownout %s–%s, run %s", start, end, bStart, bEnd, p.Duration)
	}
	for _, field := range []string{"requests.lost", "herd.duplicate_refreshes", "requests.retry_loops",
		"requests.stale_token_retries", "requests.user_visible_errors", "herd.amplification"} {
		if !strings.Contains(p.Description, field) {
			t.Errorf("description does not name %s", field)
		}
	}
	for _, name := range Interceptors() {
		if !strings.Contains(p.Description, name) {
			t.Errorf("description does not say what %s shows", name)
		}
	}
}
