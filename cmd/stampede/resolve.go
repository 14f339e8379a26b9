package main

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
)

// resolve builds the profile from the built-in or file named by -p and the
// flags given, reporting every problem at once: each names its flag, or the
// profile file, line and field.
func (o *runOptions) resolve() (profiles.Profile, error) {
	var errs []error
	given := func(name string) bool { return o.flags != nil && o.flags(name) }
	bad := map[string]bool{} // flags whose own value is invalid
	flagErr := func(flag, format string, args ...any) {
		bad[flag] = true
		errs = append(errs, fmt.Errorf("--"+flag+": "+format, args...))
	}
	if given("clients") && o.clients < 1 {
		flagErr("clients", "must be at least 1, got %d", o.clients)
	}
	if given("duration") && o.duration <= 0 {
		flagErr("duration", "must be greater than 0, got %s", o.duration)
	}
	if given("ramp") && o.ramp < 0 {
		flagErr("ramp", "must not be negative, got %s", o.ramp)
	}
	if given("time-scale") && !(o.timeScale >= 1) {
		flagErr("time-scale", "must be at least 1, got %g", o.timeScale)
	}
	if o.target != "" {
		if err := checkTargetURL(o.target); err != nil {
			bad["target"] = true // the profile's check of target.url would say it again
			errs = append(errs, fmt.Errorf("--target: %w", err))
		}
	}
	if o.metricsAddr != "" {
		if err := checkMetricsAddr(o.metricsAddr); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.shardFlags.parse(time.Now())...)
	flagThresholds, thresholdErrs := o.flagThresholds()
	errs = append(errs, thresholdErrs...)
	sets, setErrs := parseSets(o.sets)
	errs = append(errs, setErrs...)
	var applyErrs []error
	// The flags given override the profile before it is validated, so a
	// problem they cause still names the profile's file and line.
	p, err := profiles.ResolveWith(o.profile, func(p *profiles.Profile) {
		// --set first: the dedicated flags, applied next, win over it.
		applyErrs = applySets(p, sets)
		if given("clients") {
			p.Clients = o.clients
		}
		if given("duration") {
			p.Duration = profiles.Duration(o.duration)
		}
		if given("ramp") {
			p.Ramp = profiles.Duration(o.ramp)
		}
		if given("time-scale") {
			p.TimeScale = o.timeScale
		}
		if given("seed") {
			p.Seed = o.seed
		}
		if o.stages != "" {
			st, err := profiles.ParseStages(o.stages)
			if err != nil {
				flagErr("stages", "%v", err)
			}
			p.Stages = st
		}
		if o.target != "" {
			p.Target.URL = o.target
			if p.Target.Kind == "" {
				p.Target.TLS = false // the embedded backend's: --target's scheme says whether it is TLS
			}
		}
		if o.updateCredentials {
			p.Target.UpdateCredentials = true
		}
	})
	fieldFlag := map[string]string{"clients": "clients", "duration": "duration", "ramp": "ramp", "time_scale": "time-scale", "target.url": "target",
		"target.update_credentials": "update-credentials"}
	for _, e := range unjoin(err) {
		var fe *profiles.FieldError
		if !errors.As(e, &fe) {
			errs = append(errs, fmt.Errorf("--profile: %w", e)) // unknown name, unreadable file
			continue
		}
		if flag, ok := fieldFlag[fe.Path]; ok && given(flag) && !fe.InFile {
			if !bad[flag] { // a rule the flag's value breaks (ramp > duration)
				errs = append(errs, fmt.Errorf("--%s: %s", flag, fe.Message))
			}
			continue
		}
		errs = append(errs, e)
	}
	if err == nil {
		errs = append(errs, o.shardFlags.sharedTarget(p)...)
	}
	errs = withSets(sets, errs, applyErrs) // --set problems name the flag, in flag order
	if len(errs) > 0 {
		return p, usageError(errors.Join(errs...))
	}
	p.Thresholds = append(p.Thresholds, flagThresholds...)
	return p, nil
}

// flagThresholds parses the --threshold expressions, returning them as
// profile thresholds and one error per bad one, naming the flag.
func (o *runOptions) flagThresholds() ([]profiles.Threshold, []error) {
	var ths []profiles.Threshold
	var errs []error
	for _, expr := range o.thresholds {
		if _, err := threshold.Parse(expr); err != nil {
			var te *threshold.Error
			if errors.As(err, &te) {
				errs = append(errs, fmt.Errorf("--threshold %s: %s", profiles.Quote(expr), te.Reason))
			} else {
				errs = append(errs, fmt.Errorf("--threshold %s: %w", profiles.Quote(expr), err))
			}
			continue
		}
		ths = append(ths, profiles.Threshold{Expr: expr})
	}
	return ths, errs
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func checkTargetURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %s: %w", profiles.Quote(s), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %s must start with http:// or https://", profiles.Quote(s))
	}
	if u.Host == "" {
		return fmt.Errorf("URL %s has no host", profiles.Quote(s))
	}
	return nil
}
