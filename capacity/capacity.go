// Package capacity finds the fleet size at which a refresh path tips over
// (docs/capacity.md): one staged run steps the fleet up, every stage held
// for at least two token lifetimes, the thresholds are evaluated per
// stage, and the knee is the last passing size before the first failing
// one, explained by the herd figures that moved most between the two.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/profiles/threshold"
	"github.com/stampede-load/stampede/reports"
)

// Schema names the search report's JSON shape.
const Schema = "stampede.capacity/v1"

// Step is how the fleet grows from one stage to the next: times Factor,
// or plus Add.
type Step struct {
	Factor float64
	Add    int
}

// ParseStep reads --step: a factor ("2", "x2", "1.5") or an increment
// ("+500").
func ParseStep(s string) (Step, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			return Step{}, fmt.Errorf("an increment must be a whole number of at least 1 such as +500, got %q", s)
		}
		return Step{Add: n}, nil
	}
	f, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimPrefix(s, "x"), "×"), 64)
	if err != nil || !(f > 1) || math.IsInf(f, 0) {
		return Step{}, fmt.Errorf("a factor must be a number above 1 such as 2 or x1.5, got %q", s)
	}
	return Step{Factor: f}, nil
}

// String is the step as --step takes it.
func (s Step) String() string {
	if s.Add > 0 {
		return "+" + strconv.Itoa(s.Add)
	}
	return "x" + strconv.FormatFloat(s.Factor, 'g', -1, 64)
}

// Next is the fleet size after n: always larger than n.
func (s Step) Next(n int) int {
	if s.Add > 0 {
		return n + s.Add
	}
	return max(n+1, int(math.Round(float64(n)*s.Factor)))
}

// Sizes are the fleet sizes of a search from start up to max, the last
// one max itself when the steps pass it.
func Sizes(start, maxClients int, s Step) []int {
	var out []int
	for n := start; ; n = s.Next(n) {
		if n >= maxClients {
			return append(out, maxClients)
		}
		out = append(out, n)
	}
}

// MinHold is the shortest hold a stage gets: two token lifetimes, in
// wall-clock time, so that every client refreshes in it at least once.
func MinHold(p profiles.Profile) time.Duration {
	return 2 * p.Scale(p.Backend.TokenLifetime)
}

// DefaultLagBound is how late the generator may run its scheduled work
// (engine lag p99) before a stage's measurement is not trusted.
const DefaultLagBound = 50 * time.Millisecond

// Options are a search.
type Options struct {
	// Profile is the resolved, valid profile, its thresholds and the
	// flags' together; its stages are replaced by the search's.
	Profile profiles.Profile
	// Start, Max and Step: the fleet sizes tried (Sizes).
	Start, Max int
	Step       Step
	// Ramp is each stage's ramp from the previous size; Hold its hold,
	// at least MinHold (a shorter one is raised to it).
	Ramp, Hold time.Duration
	// LagBound bounds the engine lag p99 of a stage that is trusted;
	// default DefaultLagBound.
	LagBound time.Duration
	// Usage is the CPU the process used per stage (Watch measures it);
	// nil is not measured.
	Usage *Usage
	// Run runs the staged profile and returns its result (run.Execute in
	// the CLI; tests may run it in fake time).
	Run func(ctx context.Context, p profiles.Profile) (*reports.Result, error)
}

// Plan is the staged profile a search runs.
func Plan(o Options) (profiles.Profile, error) {
	p := o.Profile
	if len(p.Thresholds) == 0 {
		return p, errors.New("no threshold to search against: give --threshold or a profile with thresholds")
	}
	if o.Start < 1 || o.Max < o.Start {
		return p, fmt.Errorf("want 1 <= --start (%d) <= --max (%d)", o.Start, o.Max)
	}
	hold := max(o.Hold, MinHold(p))
	p.Stages = nil
	for _, n := range Sizes(o.Start, o.Max, o.Step) {
		p.Stages = append(p.Stages, profiles.Stage{Clients: n, Ramp: profiles.Duration(o.Ramp), Hold: profiles.Duration(hold)})
	}
	p.FitStages()
	return p, p.Validate()
}

// Search runs the search and finds the knee.
func Search(ctx context.Context, o Options) (*Report, error) {
	p, err := Plan(o)
	if err != nil {
		return nil, err
	}
	res, err := o.Run(ctx, p)
	if err != nil {
		return nil, err
	}
	return Knee(res, p, cmpOr(o.LagBound, DefaultLagBound), o.Usage)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Stage verdicts of a search.
const (
	StagePass = "pass"
	StageFail = "fail"
	// StageBehind: the generator fell behind, so its figures measure
	// stampede, not the target.
	StageBehind = "generator_behind"
	// StageNotRun: the run ended before the stage was held through.
	StageNotRun = "not_run"
)

// Row is one stage of a search.
type Row struct {
	Clients int    `json:"clients"`
	Verdict string `json:"verdict"`
	// Behind says why the stage's measurement is not trusted.
	Behind        string  `json:"behind,omitempty"`
	ThroughputRPS float64 `json:"throughput_rps"`
	RefreshP99Ms  float64 `json:"refresh_p99_ms"`
	// ServiceP50Ms is the refreshes' median service time: from when the
	// client sent one to its answer, without the time it waited to start.
	ServiceP50Ms  float64 `json:"service_p50_ms"`
	ErrorRate     float64 `json:"error_rate"`
	Amplification float64 `json:"amplification"`
	Retries       int64   `json:"retries"`
	PeakToMean    float64 `json:"peak_to_mean"`
	MaxInflight   int64   `json:"max_inflight"`
	Shed503       int64   `json:"shed_503"`
	ShedShare     float64 `json:"shed_share"`
	LagP99Ms      float64 `json:"lag_p99_ms"`
	// CPUShare is the share of its cores stampede's process used in the
	// stage (0 when not measured).
	CPUShare   float64                   `json:"cpu_share,omitempty"`
	Thresholds []reports.ThresholdResult `json:"thresholds"`
}

// Move is a herd figure at the last passing and the first failing size.
type Move struct {
	Name string  `json:"name"`
	Pass float64 `json:"pass"`
	Fail float64 `json:"fail"`
}

// Broke is the threshold that failed at the first failing size.
type Broke struct {
	Expr  string  `json:"expr"`
	Limit float64 `json:"limit"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// Report is a search's outcome (docs/capacity.md#the-report).
type Report struct {
	Schema     string   `json:"schema"`
	RunID      string   `json:"run_id"`
	Thresholds []string `json:"thresholds"`
	Stages     []Row    `json:"stages"`
	// LastPass is the largest fleet that held before the first failing
	// stage (0: none did); FirstFail the first failing size (0: none
	// failed up to --max).
	LastPass  int    `json:"last_pass"`
	FirstFail int    `json:"first_fail"`
	Broke     *Broke `json:"broke,omitempty"`
	Moved     []Move `json:"moved,omitempty"`
	// GeneratorLimited: the search stopped at a stage stampede could not
	// drive: the measurement, not the target, was the limit.
	GeneratorLimited bool   `json:"generator_limited,omitempty"`
	Summary          string `json:"summary"`
}

// Knee reads a staged run's result: each stage's verdict, the knee and
// what moved at it. A stage whose engine lag p99 is beyond lagBound is
// never a knee.
//
// With usage (nil: not measured), a stage in which stampede's process
// used its cores beyond usage's bound is not trusted either.
func Knee(res *reports.Result, p profiles.Profile, lagBound time.Duration, usage *Usage) (*Report, error) {
	if len(res.Stages) > 0 && res.Stages[0].Verdict == "" {
		if err := reports.EvaluateStages(res, p.Thresholds); err != nil {
			return nil, err
		}
	}
	r := &Report{Schema: Schema, RunID: res.RunID}
	for _, t := range p.Thresholds {
		r.Thresholds = append(r.Thresholds, t.Expr)
	}
	ended := res.EndedAt.Sub(res.StartedAt).Seconds()
	var prev *Row
	for i, s := range res.Stages {
		if res.Partial && ended > 0 && ended <= s.StartS {
			break // the run was stopped before the stage began
		}
		row := rowOf(s)
		share, saturated := usage.saturated(i)
		row.CPUShare = share
		switch {
		case res.Partial && ended > 0 && ended < s.EndS:
			row.Verdict = StageNotRun
		case s.LagMs.P99 > float64(lagBound)/float64(time.Millisecond):
			row.Verdict = StageBehind
			row.Behind = fmt.Sprintf("engine lag p99 %.0f ms is beyond %s: stampede fell behind its schedule", s.LagMs.P99, lagBound)
		case saturated:
			row.Verdict = StageBehind
			row.Behind = fmt.Sprintf("stampede's process used %.0f %% of its cores: the machine, not the target, was saturated", 100*share)
		}
		r.Stages = append(r.Stages, row)
		if r.FirstFail != 0 || r.GeneratorLimited || row.Verdict == StageNotRun {
			continue
		}
		switch row.Verdict {
		case StagePass:
			r.LastPass = row.Clients
			prev = &r.Stages[i]
		case StageBehind:
			r.GeneratorLimited = true
		case StageFail:
			r.FirstFail = row.Clients
			r.Broke = broke(s)
			if prev != nil {
				r.Moved = moved(*prev, row)
			}
		}
	}
	r.Summary = r.summary()
	return r, nil
}

func rowOf(s reports.Stage) Row {
	row := Row{Clients: s.Clients, Verdict: s.Verdict, Amplification: s.Herd.Amplification, Retries: s.Herd.Retries,
		PeakToMean: s.Herd.PeakToMean, MaxInflight: s.Herd.MaxInflight, LagP99Ms: s.LagMs.P99, Thresholds: s.Thresholds}
	if row.Verdict == "" {
		row.Verdict = StagePass
	}
	var n, errs int64
	for _, o := range s.Ops {
		n += o.Count
		errs += o.ErrorCount()
	}
	if span := s.EndS - s.StartS; span > 0 {
		row.ThroughputRPS = float64(n) / span
	}
	row.ErrorRate = ratio(float64(errs), float64(n))
	if o := s.Ops[reports.OpRefresh]; o != nil {
		row.RefreshP99Ms = o.LatencyMs.P99
		if o.ServiceMs != nil {
			row.ServiceP50Ms = o.ServiceMs.P50
		}
	}
	row.Shed503, row.ShedShare = s.Shed()
	return row
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// broke is the first threshold that failed in stage s.
func broke(s reports.Stage) *Broke {
	for _, t := range s.Thresholds {
		if t.OK {
			continue
		}
		b := &Broke{Expr: t.Expr, Value: t.Value}
		if th, err := threshold.Parse(t.Expr); err == nil {
			b.Limit, b.Unit = th.Limit, th.Unit
		}
		return b
	}
	return nil
}

// moved is the herd figures between the last pass and the first fail,
// the one that moved most (relative to the pass) first.
func moved(pass, fail Row) []Move {
	ms := []Move{
		{"amplification", pass.Amplification, fail.Amplification},
		{"retries", float64(pass.Retries), float64(fail.Retries)},
		{"peak_to_mean", pass.PeakToMean, fail.PeakToMean},
		{"max_inflight", float64(pass.MaxInflight), float64(fail.MaxInflight)},
		{"shed_503_share", pass.ShedShare, fail.ShedShare},
	}
	change := func(m Move) float64 {
		return math.Abs(m.Fail-m.Pass) / math.Max(math.Abs(m.Pass), 1e-9)
	}
	sort.SliceStable(ms, func(i, j int) bool { return change(ms[i]) > change(ms[j]) })
	return ms
}

// summary is the one line a CI job posts.
func (r *Report) summary() string {
	var b strings.Builder
	gate := strings.Join(r.Thresholds, ", ")
	switch {
	case r.LastPass > 0:
		fmt.Fprintf(&b, "holds %d clients at %s", r.LastPass, gate)
	default:
		fmt.Fprintf(&b, "holds no stage's fleet at %s", gate)
	}
	switch {
	case r.FirstFail > 0:
		fmt.Fprintf(&b, "; tips at %d", r.FirstFail)
		if r.Broke != nil {
			fmt.Fprintf(&b, " (%s: %s)", r.Broke.Expr, valueString(r.Broke.Value, r.Broke.Unit))
		}
		var fail Row
		for _, s := range r.Stages {
			if s.Clients == r.FirstFail {
				fail = s
			}
		}
		fmt.Fprintf(&b, ": amplification %.2f, %.0f %% 503 shed", fail.Amplification, 100*fail.ShedShare)
	case r.GeneratorLimited:
		b.WriteString("; then stampede fell behind its schedule: the measurement, not the target, was the limit (run it in shards: --shard i/n)")
	default:
		b.WriteString("; no stage failed up to --max")
	}
	return b.String()
}

func valueString(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if unit == "" {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if unit == "%" {
		return s + " %"
	}
	return s + " " + unit
}

// Holds reports whether the knee is at or above require clients: the
// last passing size, or --max when no stage failed and stampede kept up.
func (r *Report) Holds(require int) bool {
	return r.LastPass >= require
}
