package reports

import (
	"math"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
)

// Stage is one stage of a staged run (docs/results.md#stages): its span
// on the run's timeline and the figures measured during it. Requests
// count in the stage in which they were answered, clients in the one in
// which they joined or left.
type Stage struct {
	Index int `json:"index"`
	// Clients is the fleet size the stage ramps to and holds.
	Clients int `json:"clients"`
	// StartS and EndS are the stage's span, seconds from the run's start;
	// RampS and HoldS its parts.
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	RampS  float64 `json:"ramp_s"`
	HoldS  float64 `json:"hold_s"`
	// Joined and Left count the clients that joined and left the fleet.
	Joined int64 `json:"joined"`
	Left   int64 `json:"left"`
	// Ops are the operations answered during the stage (no histograms).
	Ops map[string]*Op `json:"ops"`
	// ByStatus counts the answers by HTTP status ("503": shed by an
	// overloaded backend), every operation together; "0" is no answer.
	ByStatus map[string]int64 `json:"by_status,omitempty"`
	// Herd is the herd figures within the stage's span.
	Herd Herd `json:"herd"`
	// LagMs is how late the generator ran its scheduled work.
	LagMs LagSummary `json:"lag_ms"`
	// Thresholds are the profile's thresholds on the stage's figures;
	// Verdict "pass" when all of them held.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	Verdict    string            `json:"verdict,omitempty"`
}

// Shed is how many answers of the stage were 503 (what an overloaded
// backend sheds), and their share of all its answers.
func (s Stage) Shed() (n int64, share float64) {
	var all int64
	for _, v := range s.ByStatus {
		all += v
	}
	n = s.ByStatus["503"]
	return n, ratio(float64(n), float64(all))
}

// StagesOf lays out p's stages on the run's timeline, without figures.
func StagesOf(p profiles.Profile) []Stage {
	b := p.StageBounds()
	out := make([]Stage, len(p.Stages))
	for i, s := range p.Stages {
		out[i] = Stage{Index: i, Clients: s.Clients, StartS: b[i].Seconds(), EndS: b[i+1].Seconds(),
			RampS: s.Ramp.D().Seconds(), HoldS: s.Hold.D().Seconds()}
	}
	return out
}

// analyzeStages fills each stage's herd figures from its counts and the
// timeline within its span.
func analyzeStages(r *Result) {
	tl := r.Timeline
	bucket := time.Duration(tl.BucketMs) * time.Millisecond
	if bucket <= 0 {
		return
	}
	perSecond := float64(time.Second) / float64(bucket)
	for i := range r.Stages {
		s := &r.Stages[i]
		lo := int(math.Round(s.StartS * perSecond))
		hi := int(math.Round(s.EndS * perSecond))
		if i == len(r.Stages)-1 {
			hi = len(tl.RefreshAttempts) // the drain's answers count in the last stage
		}
		attempts := clip(tl.RefreshAttempts, lo, hi)
		h := &s.Herd
		h.PeakRPS = float64(peakWindow(attempts, int(math.Round(perSecond))))
		if secs := float64(len(attempts)) / perSecond; secs > 0 {
			h.MeanRPS = float64(sum(attempts)) / secs
		}
		h.PeakToMean = ratio(h.PeakRPS, h.MeanRPS)
		h.MaxInflight = 0
		for _, v := range clip(tl.RefreshInflight, lo, hi) {
			h.MaxInflight = max(h.MaxInflight, v)
		}
		if op := s.Ops[OpRefresh]; op != nil {
			h.Amplification = ratio(float64(op.Count), float64(op.OK))
			h.RetriesShare = ratio(float64(h.Retries), float64(op.Count))
		}
		h.Dispersion = dispersion(attempts)
	}
}

// EvaluateStages evaluates ths on every stage's figures: operations,
// herd and engine lag as the stage measured them (a metric of another
// section reads 0). A stage's verdict does not change the run's.
func EvaluateStages(r *Result, ths []profiles.Threshold) error {
	if len(r.Stages) == 0 {
		return nil
	}
	parsed, err := parseAll(ths)
	if err != nil {
		return err
	}
	for i := range r.Stages {
		evaluateStage(r, &r.Stages[i], parsed, ths)
	}
	return nil
}

func evaluateStage(r *Result, s *Stage, parsed []threshold.Threshold, ths []profiles.Threshold) {
	view := StageView(r, *s)
	s.Thresholds = make([]ThresholdResult, len(parsed))
	s.Verdict = VerdictPass
	for i, t := range parsed {
		tr := CheckThreshold(view, t)
		if tr.NoData && ths[i].AllowNoData {
			tr.OK, tr.AllowNoData = true, true
		}
		s.Thresholds[i] = tr
		if !tr.OK {
			s.Verdict = VerdictFail
		}
	}
}

// StageView is a result holding only stage s's figures, for reading its
// metrics as a whole run's are read.
func StageView(r *Result, s Stage) *Result {
	return &Result{Profile: r.Profile, Target: r.Target, Ops: s.Ops, Herd: s.Herd, Engine: Engine{LagMs: s.LagMs}}
}

// StatusKey is how ByStatus names an HTTP status.
func StatusKey(status int) string { return strconv.Itoa(status) }
