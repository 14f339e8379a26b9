package profiles

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Signing algorithms of the embedded backend.
var signings = []string{"RS256", "ES256", "EdDSA"}

// Jitter strategies, in the order messages list them.
var jitters = []string{JitterNone, JitterFull, JitterEqual, JitterDecorrelated, JitterAdditive}

// EventTypes lists the fleet event types.
func EventTypes() []string {
	return []string{EventOutage, EventKeyRotation, EventRevocationWave, EventBrownout,
		EventSpurious401, EventClockSkew, EventClientTokenRotation}
}

// EventFields lists the fields an event of type t may have besides type and
// at, in the order the README documents them; nil for an unknown type.
func EventFields(t string) []string {
	switch t {
	case EventOutage:
		return []string{"fraction", "duration", "mode", "restore_spread"}
	case EventKeyRotation:
		return []string{"overlap"}
	case EventRevocationWave:
		return []string{"fraction"}
	case EventBrownout:
		return []string{"duration", "latency", "rate_429", "retry_after", "rate_503"}
	case EventSpurious401:
		return []string{"duration", "rate"}
	case EventClockSkew:
		return []string{"server_offset", "device_offset", "fraction", "duration"}
	case EventClientTokenRotation:
		return []string{"grace", "duration"}
	}
	return nil
}

// givenFields names the fields of e other than type and at that hold a
// value other than their zero.
func (e Event) givenFields() []string {
	var s []string
	add := func(name string, set bool) {
		if set {
			s = append(s, name)
		}
	}
	add("duration", e.Duration != 0)
	add("fraction", e.Fraction != 0)
	add("mode", e.Mode != "")
	add("restore_spread", e.RestoreSpread != 0)
	add("overlap", e.Overlap)
	add("latency", e.Latency != 0)
	add("rate_429", e.Rate429 != 0)
	add("retry_after", e.RetryAfter != 0)
	add("rate_503", e.Rate503 != 0)
	add("rate", e.Rate != 0)
	add("server_offset", e.ServerOffset != 0)
	add("device_offset", e.DeviceOffset != 0)
	add("grace", e.Grace != 0)
	return s
}

// notForType is the message for a field that an event of type t does not have.
func notForType(t string) string {
	return fmt.Sprintf("does not apply to %s event (its fields: type, at, %s)", anEvent(t), strings.Join(EventFields(t), ", "))
}

// anEvent is "an outage", "a brownout": the type with its article.
func anEvent(t string) string {
	if t != "" && strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}

// validator collects every problem of a profile.
type validator struct {
	errs []error
}

// bad records a problem with the field at path.
func (v *validator) bad(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// badRel is bad for a rule that involves other fields too.
func (v *validator) badRel(path string, related []string, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...), related: related})
}

// positive checks a duration greater than 0.
func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.bad(path, "must be greater than 0, got %s", d)
	}
}

// nonNegative checks a duration of at least 0.
func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.bad(path, "must not be negative, got %s", d)
	}
}

// share checks a share in [0, 1] (or (0, 1] when zeroOK is false).
func (v *validator) share(path string, f float64, zeroOK bool, of string) {
	switch {
	case !zeroOK && f == 0:
		v.bad(path, "is required: a share of %s, more than 0 and at most 1", of)
	case zeroOK && !(f >= 0 && f <= 1):
		v.bad(path, "must be from 0 to 1 (a share of %s), got %g", of, f)
	case !zeroOK && !(f > 0 && f <= 1):
		v.bad(path, "must be more than 0 and at most 1 (a share of %s), got %g", of, f)
	}
}

// oneOf checks an enumerated string; "" is reported as missing.
func (v *validator) oneOf(path, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		if got == "" {
			v.bad(path, "is required: one of %s", strings.Join(allowed, ", "))
			return
		}
		v.bad(path, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

// Validate reports every invalid field at once, joined, each a *FieldError
// naming the field's path and saying what is allowed; nil when the profile
// is valid. A profile read with Parse has its problems located in the file.
func (p Profile) Validate() error {
	v := &validator{}
	if p.Clients <= 0 {
		v.bad("clients", "must be at least 1, got %d", p.Clients)
	}
	v.positive("duration", p.Duration)
	v.nonNegative("ramp", p.Ramp)
	if p.Ramp > p.Duration && p.Duration > 0 {
		v.badRel("ramp", []string{"duration"}, "must not exceed duration (%s), got %s", p.Duration, p.Ramp)
	}
	if !(p.TimeScale >= 1) {
		v.bad("time_scale", "must be at least 1, got %g", p.TimeScale)
	}
	p.validateSDK(v)
	p.validateApp(v)
	p.validateNetwork(v)
	for i, e := range p.Events {
		p.validateEvent(v, i, e)
	}
	v.positive("backend.token_lifetime", p.Backend.TokenLifetime)
	v.positive("backend.max_lifetime", p.Backend.MaxLifetime)
	v.nonNegative("backend.inactivity_timeout", p.Backend.InactivityTimeout)
	v.oneOf("backend.signing", p.Backend.Signing, signings)
	for i, t := range p.Thresholds {
		if strings.TrimSpace(t.Expr) == "" {
			v.bad(fmt.Sprintf("thresholds[%d].expr", i), "is required: METRIC OP VALUE such as \"refresh.p99 < 250ms\"")
		}
	}
	return errors.Join(v.errs...)
}

// validateSDK checks the sdk section, its retry policy included.
func (p Profile) validateSDK(v *validator) {
	s := p.SDK
	if s.Preset != "" {
		v.oneOf("sdk.preset", s.Preset, SDKPresetNames())
	}
	v.oneOf("sdk.token_mode", s.TokenMode, []string{TokenModeSWR, TokenModeBlocking})
	v.nonNegative("sdk.refresh_ahead", s.RefreshAhead)
	v.nonNegative("sdk.stale_window", s.StaleWindow)
	v.positive("sdk.request_timeout", s.RequestTimeout)
	v.oneOf("sdk.interceptor", s.Interceptor, Interceptors())
	if lt := p.Backend.TokenLifetime; s.RefreshAhead >= lt && lt > 0 {
		hint := ""
		if ps, ok := SDKPreset(s.Preset); ok && s.Preset != SDKCustom && ps.RefreshAhead == s.RefreshAhead {
			hint = fmt.Sprintf(" (the %s preset's figure): give a longer backend.token_lifetime or your own sdk.refresh_ahead", s.Preset)
		}
		v.badRel("sdk.refresh_ahead", []string{"sdk.preset", "backend.token_lifetime"},
			"must be shorter than backend.token_lifetime (%s), got %s%s", lt, s.RefreshAhead, hint)
	}
	r := s.Retry
	v.positive("sdk.retry.base", r.Base)
	v.positive("sdk.retry.cap", r.Cap)
	if r.Base > r.Cap && r.Cap > 0 {
		v.badRel("sdk.retry.base", []string{"sdk.retry.cap", "sdk.preset"}, "must not exceed sdk.retry.cap (%s), got %s", r.Cap, r.Base)
	}
	if !(r.Multiplier >= 1) {
		v.bad("sdk.retry.multiplier", "must be at least 1 (1 retries at a constant delay), got %g", r.Multiplier)
	}
	v.oneOf("sdk.retry.jitter", r.Jitter, jitters)
	v.nonNegative("sdk.retry.spread", r.Spread)
	if r.MaxRetries < 0 {
		v.bad("sdk.retry.max_retries", "must not be negative (0 is no retry), got %d", r.MaxRetries)
	}
}

// validDist checks a distribution of the lifecycle.
func validDist(v *validator, path string, d Dist) {
	v.oneOf(path+".dist", d.Dist, []string{DistFixed, DistExponential, DistLognormal})
	v.positive(path+".value", d.Value)
	switch {
	case d.Dist == DistLognormal && !(d.Sigma > 0):
		v.bad(path+".sigma", "must be greater than 0 for a lognormal distribution (its shape; 1 is a common choice), got %g", d.Sigma)
	case d.Dist != DistLognormal && d.Sigma != 0:
		v.bad(path+".sigma", "applies only to dist lognormal, got %g with dist %q", d.Sigma, d.Dist)
	}
}

// validateApp checks the app section and its lifecycle model.
func (p Profile) validateApp(v *validator) {
	a := p.App
	if !(a.APICallsPerMinute >= 0) {
		v.bad("app.api_calls_per_minute", "must not be negative (0 makes no API calls), got %g", a.APICallsPerMinute)
	}
	if a.Burst < 1 || a.Burst > MaxBurst {
		v.bad("app.burst", "must be from 1 to %d (API calls fired at once per screen load; 1 is one call at a time), got %d", MaxBurst, a.Burst)
	}
	v.nonNegative("app.think_time", a.ThinkTime)
	l := a.Lifecycle
	switch l.Model {
	case LifecycleForeground:
		for _, f := range []struct {
			name string
			set  bool
		}{{"foreground", l.Foreground != Dist{}}, {"background", l.Background != Dist{}}, {"cold_start", l.ColdStart != 0}} {
			if f.set {
				v.badRel("app.lifecycle."+f.name, []string{"app.lifecycle.model"},
					"applies only to model %s (the app is always in the foreground with model %s)", LifecycleBackgroundForeground, LifecycleForeground)
			}
		}
	case LifecycleBackgroundForeground:
		validDist(v, "app.lifecycle.foreground", l.Foreground)
		validDist(v, "app.lifecycle.background", l.Background)
		if !(l.ColdStart >= 0 && l.ColdStart <= 1) {
			v.bad("app.lifecycle.cold_start", "must be from 0 to 1 (the chance the app was killed in the background), got %g", l.ColdStart)
		}
	default:
		v.oneOf("app.lifecycle.model", l.Model, []string{LifecycleForeground, LifecycleBackgroundForeground})
	}
}

// validateNetwork checks the network section.
func (p Profile) validateNetwork(v *validator) {
	n := p.Network
	if _, ok := NetworkPreset(n.Preset); !ok {
		v.bad("network.preset", "must be one of %s, got %q", strings.Join(NetworkPresetNames(), ", "), n.Preset)
	}
	v.nonNegative("network.latency", n.Latency)
	v.nonNegative("network.jitter", n.Jitter)
	if n.Jitter > n.Latency && n.Latency >= 0 && n.Jitter >= 0 {
		v.badRel("network.jitter", []string{"network.latency", "network.preset"}, "must not exceed network.latency (%s): latency varies by ± jitter and never goes below 0, got %s", n.Latency, n.Jitter)
	}
	v.share("network.loss", n.Loss, true, "requests lost")
	if !(n.DownKbps >= 0) {
		v.bad("network.down_kbps", "must not be negative (0 is unlimited), got %g", n.DownKbps)
	}
	if !(n.UpKbps >= 0) {
		v.bad("network.up_kbps", "must not be negative (0 is unlimited), got %g", n.UpKbps)
	}
}

// validateEvent checks events[i]: its time, its type and the fields of that type.
func (p Profile) validateEvent(v *validator, i int, e Event) {
	at := fmt.Sprintf("events[%d]", i)
	f := func(name string) string { return at + "." + name }
	switch {
	case e.At.Share < 0 || e.At.Share > 1:
		v.bad(f("at"), "a share of the run must be more than 0%% and at most 100%%, got %s", e.At)
	case e.At.Share == 0 && e.At.Offset < 0:
		v.bad(f("at"), "must not be negative, got %s", e.At.Offset)
	case p.Duration > 0:
		if start := p.WallOffset(e.At); start > p.Duration.D() {
			v.badRel(f("at"), []string{"duration"}, "starts at %s, after the end of the run (%s): at %s is simulated time, divided by time_scale %g; give an earlier at, a share such as \"50%%\", or a longer duration",
				start, p.Duration, e.At.Offset, p.TimeScale)
		}
	}
	allowed := EventFields(e.Type)
	if allowed == nil {
		v.oneOf(f("type"), e.Type, EventTypes())
		return
	}
	for _, name := range e.givenFields() {
		if !slices.Contains(allowed, name) {
			v.bad(f(name), "%s", notForType(e.Type))
		}
	}
	nonNeg := func(name string, d Duration) { v.nonNegative(f(name), d) }
	positive := func(name string, d Duration) {
		if d == 0 {
			v.bad(f(name), "is required: how long %s lasts in simulated time, such as \"2m\"", anEvent(e.Type))
			return
		}
		v.positive(f(name), d)
	}
	switch e.Type {
	case EventOutage:
		v.share(f("fraction"), e.Fraction, false, "the clients that go offline")
		positive("duration", e.Duration)
		v.oneOf(f("mode"), e.Mode, []string{OutageFailFast, OutageBlackhole})
		nonNeg("restore_spread", e.RestoreSpread)
	case EventRevocationWave:
		v.share(f("fraction"), e.Fraction, false, "the active sessions revoked")
	case EventBrownout:
		positive("duration", e.Duration)
		nonNeg("latency", e.Latency)
		v.share(f("rate_429"), e.Rate429, true, "refreshes answered 429")
		v.share(f("rate_503"), e.Rate503, true, "refreshes answered 503")
		nonNeg("retry_after", e.RetryAfter)
		if e.Latency <= 0 && e.Rate429 <= 0 && e.Rate503 <= 0 {
			v.bad(at, "a brownout needs at least one of latency, rate_429 or rate_503")
		}
		if e.Rate429+e.Rate503 > 1 && e.Rate429 <= 1 && e.Rate503 <= 1 {
			v.badRel(f("rate_503"), []string{f("rate_429")}, "rate_429 + rate_503 must not exceed 1 (they are shares of the same refreshes), got %g + %g", e.Rate429, e.Rate503)
		}
	case EventSpurious401:
		positive("duration", e.Duration)
		v.share(f("rate"), e.Rate, false, "API calls answered with a spurious 401")
	case EventClockSkew:
		nonNeg("duration", e.Duration)
		switch {
		case e.ServerOffset == 0 && e.DeviceOffset == 0:
			v.bad(at, "a clock_skew needs server_offset, device_offset or both (durations such as \"30s\" or \"-2m\")")
		case e.DeviceOffset != 0:
			v.share(f("fraction"), e.Fraction, false, "the devices whose clocks are off")
		case e.Fraction != 0:
			v.bad(f("fraction"), "applies only with device_offset (the share of devices whose clocks are off)")
		}
	case EventClientTokenRotation:
		nonNeg("grace", e.Grace)
		nonNeg("duration", e.Duration)
	}
}
