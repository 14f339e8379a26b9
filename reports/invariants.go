package reports

import (
	"fmt"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// InvariantResult is one default invariant gate evaluated on a result
// (docs/results.md#invariants): a count that must be 0.
type InvariantResult struct {
	// Name is the invariant's name, as the profile's invariants section
	// gives it: "lost", "retry_loops", "stale_token_retries",
	// "duplicate_refreshes".
	Name string `json:"name"`
	// Expr is what it checks, as a threshold would: "requests.lost == 0".
	Expr  string  `json:"expr"`
	Value float64 `json:"value"`
	// OK says whether it held.
	OK bool `json:"ok"`
	// Gated says whether it counts in the verdict. It does not when the
	// profile relaxed it (Relaxed: invariants.NAME off), or when the
	// run's interceptor does not promise it, or the app makes no API call
	// (Note says which).
	Gated   bool `json:"gated"`
	Relaxed bool `json:"relaxed,omitempty"`
	// Note explains an invariant that is not gated, or one that failed for
	// want of data.
	Note string `json:"note,omitempty"`
}

// invariantDef is one invariant: its metric and how to read it.
type invariantDef struct {
	name, metric string
	get          func(*Result) int64
	samples      func(*Samples) []RequestSample
	requests     bool // over API requests: needs some to have been made
}

var invariantDefs = []invariantDef{
	{profiles.InvariantLost, "requests.lost", func(r *Result) int64 { return r.Requests.Lost },
		func(s *Samples) []RequestSample { return s.Lost }, true},
	{profiles.InvariantRetryLoops, "requests.retry_loops", func(r *Result) int64 { return r.Requests.RetryLoops },
		func(s *Samples) []RequestSample { return s.RetryLoops }, true},
	{profiles.InvariantStaleTokenRetries, "requests.stale_token_retries", func(r *Result) int64 { return r.Requests.StaleTokenRetries },
		func(s *Samples) []RequestSample { return s.StaleTokenRetries }, true},
	{profiles.InvariantDuplicateRefreshes, "herd.duplicate_refreshes", func(r *Result) int64 { return r.Herd.DuplicateRefreshes },
		func(s *Samples) []RequestSample { return s.DuplicateRefreshes }, false},
}

// EvaluateInvariants evaluates the default invariants on r, as its
// profile (r.Profile) gates them, and returns them in report order. A gated
// invariant over API requests fails, whatever its count, when the app was
// to make API calls (app.api_calls_per_minute above 0) and the run made
// none: no data is not a pass. When the app makes no API call at all, the
// invariants over API requests are not gated.
func EvaluateInvariants(r *Result) []InvariantResult {
	p := r.Profile
	out := make([]InvariantResult, 0, len(invariantDefs))
	for _, d := range invariantDefs {
		v := d.get(r)
		ir := InvariantResult{Name: d.name, Expr: d.metric + " == 0", Value: float64(v), OK: v == 0,
			Gated: p.InvariantGated(d.name)}
		switch {
		case p.Invariants.Setting(d.name) == profiles.InvariantOff:
			ir.Relaxed = true
			ir.Note = fmt.Sprintf("relaxed by the profile (invariants.%s: off)", d.name)
		case !ir.Gated:
			ir.Note = fmt.Sprintf("not gated: the %s interceptor does not promise a single refresh per client", interceptorName(p))
		case d.requests && p.App.APICallsPerMinute <= 0 && p.Invariants.Setting(d.name) != profiles.InvariantOn:
			ir.Gated = false
			ir.Note = "not gated: the app makes no API call (app.api_calls_per_minute 0)"
		case d.requests && r.Requests.Issued == 0:
			ir.OK = false
			ir.Note = "no API request was made: nothing shows it held (no data is not a pass)"
		}
		out = append(out, ir)
	}
	return out
}

func interceptorName(p profiles.Profile) string {
	if p.SDK.Interceptor == "" {
		return profiles.InterceptorSingleFlight
	}
	return p.SDK.Interceptor
}

// InvariantSamples is the evidence r keeps for invariant name: the
// earliest requests that broke it.
func (r *Result) InvariantSamples(name string) []RequestSample {
	for _, d := range invariantDefs {
		if d.name == name {
			return d.samples(&r.Samples)
		}
	}
	return nil
}

// InvariantLine formats an evaluated invariant for the terminal:
// "✓ requests.lost == 0 (value 0) [invariant]", "✗ ..." when it failed and
// gates the run, "- ..." when it is not gated, with the reason.
func InvariantLine(i InvariantResult) string {
	mark := "✓"
	switch {
	case !i.Gated:
		mark = "-"
	case !i.OK:
		mark = "✗"
	}
	line := fmt.Sprintf("%s %s (value %s) [invariant", mark, i.Expr, fmtFigure(i.Value))
	if i.Relaxed {
		line += ", relaxed"
	}
	line += "]"
	if i.Note != "" {
		line += ": " + i.Note
	}
	return line
}

// SampleLine describes one request kept as evidence, in one line:
// "client 17 at 31.200 s: issued at 31.200 s, token generation 3 (newest
// 3), 1 retry: queued behind an interceptor flag never reset".
func SampleLine(s RequestSample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "client %d at %.3f s", s.Client, s.AtS)
	if s.IssuedS != s.AtS {
		fmt.Fprintf(&b, " (issued at %.3f s)", s.IssuedS)
	}
	fmt.Fprintf(&b, ": token generation %d (newest %d), %d %s: %s", s.TokenGeneration, s.NewestGeneration,
		s.Retries, plural(s.Retries, "retry", "retries"), s.Interceptor)
	return b.String()
}

// invariantFailed reports whether i fails the run.
func invariantFailed(i InvariantResult) bool { return i.Gated && !i.OK }

// countFailedInvariants counts the invariants of r that fail the run.
func countFailedInvariants(r *Result) int {
	n := 0
	for _, i := range r.Invariants {
		if invariantFailed(i) {
			n++
		}
	}
	return n
}

// invariantSummary says in one sentence how the invariants fared, naming
// the relaxed ones: "All 3 gated invariants held (1 not gated). Relaxed
// by the profile: duplicate_refreshes."
func invariantSummary(r *Result) string {
	if len(r.Invariants) == 0 {
		return ""
	}
	gated, failed := 0, countFailedInvariants(r)
	var relaxed []string
	for _, i := range r.Invariants {
		if i.Gated {
			gated++
		}
		if i.Relaxed {
			relaxed = append(relaxed, i.Name)
		}
	}
	var s string
	switch {
	case failed > 0:
		s = fmt.Sprintf("%d of %d invariants failed", failed, gated)
	case gated == 1:
		s = "The 1 gated invariant held"
	default:
		s = fmt.Sprintf("All %d gated invariants held", gated)
	}
	if n := len(r.Invariants) - gated; n > 0 {
		s += fmt.Sprintf(" (%d not gated)", n)
	}
	s += "."
	if len(relaxed) > 0 {
		s += " Relaxed by the profile: " + strings.Join(relaxed, ", ") + "."
	}
	return s
}

// shownSamples is the evidence a report shows under invariant i: the
// first 3 samples of an invariant whose count is not 0.
func shownSamples(r *Result, i InvariantResult) []RequestSample {
	if i.Value == 0 {
		return nil
	}
	s := r.InvariantSamples(i.Name)
	return s[:min(len(s), 3)]
}

// FailedInvariants names the invariants of r that fail the run, with
// their counts, in one line: "invariant failed: requests.lost == 0
// (value 28)"; "" when none does.
func FailedInvariants(r *Result) string {
	var failed []string
	for _, i := range r.Invariants {
		if invariantFailed(i) {
			f := fmt.Sprintf("%s (value %s)", i.Expr, fmtFigure(i.Value))
			if i.Note != "" {
				f = fmt.Sprintf("%s (value %s: %s)", i.Expr, fmtFigure(i.Value), i.Note)
			}
			failed = append(failed, f)
		}
	}
	if len(failed) == 0 {
		return ""
	}
	return fmt.Sprintf("%s failed: %s", plural(len(failed), "invariant", "invariants"), strings.Join(failed, "; "))
}
