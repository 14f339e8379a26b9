package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// CompareSchema is the version tag of compare's JSON output.
const CompareSchema = "stampede.compare/v1"

// Verdicts of a compared metric.
const (
	// VerdictRegression: worse by more than the floors and the relative
	// limit, and the interval of the difference lies wholly above 0.
	VerdictRegression = "regression"
	// VerdictImprovement: the same, in the good direction.
	VerdictImprovement = "improvement"
	// VerdictNoise: any other change of a gated metric.
	VerdictNoise = "noise"
	// VerdictInfo: shown, never gated (maximums by default: one sample).
	VerdictInfo = "info"
	// VerdictOff: turned off by the budget.
	VerdictOff = "off"
	// VerdictNoData: the new run, or a baseline run, has no data for the
	// metric (NoDataIn says which). A gated metric without data fails: no
	// data is not a pass.
	VerdictNoData = "no data"
)

// Metric kinds: they decide the unit, the default floor and the interval.
const (
	MetricLatency = "latency" // a latency percentile, ms, bootstrap interval
	MetricMax     = "max"     // a latency maximum, ms, informational by default
	MetricRate    = "rate"    // an error rate, %, binomial interval
	MetricRatio   = "ratio"   // a herd ratio, Poisson interval
	MetricCount   = "count"   // a count that should stay 0, no interval
)

// Default noise floors: a change smaller than its floor is noise whatever
// its relative size. Latencies: 1 ms, or the histogram's precision at the
// base value (1/1024 of it, the coarsest bucket of a 3-significant-figure
// HDR histogram) when that is larger.
const (
	DefaultLatencyFloorMs  = 1.0
	DefaultRateFloorPct    = 0.1 // percentage points
	DefaultPeakToMeanFloor = 0.25
	DefaultAmplifFloor     = 0.02
	DefaultCountFloor      = 0
	histPrecision          = 1.0 / 1024
)

// MinTailSamples is how many requests of each run must lie beyond a
// latency percentile for it to be gated by default: a p99 of 400 requests
// rests on 4 of them and moves with any slow moment of the machine, as a
// maximum does. Such a percentile is shown, and a budget's gate: true
// gates it.
const MinTailSamples = 10

// CompareOptions are the rules of a comparison.
type CompareOptions struct {
	// MaxRegression is the relative limit, a fraction (0.1 for 10%): a change
	// must exceed it, as well as the floor, to count. A budget may override it.
	MaxRegression float64
	// Budget, if set, adjusts the rules metric by metric.
	Budget *Budget
	// Resamples and Level of the bootstrap intervals; 0 means
	// DefaultResamples and DefaultLevel.
	Resamples int
	Level     float64
}

// Comparison is one or more baseline results held against a new one.
type Comparison struct {
	Schema string `json:"schema"`
	// BaseRunIDs are the baseline runs: one, or several whose spread is
	// the noise band.
	BaseRunIDs []string `json:"base_run_ids"`
	NewRunID   string   `json:"new_run_id"`
	// MaxRegression is the default relative limit (a fraction).
	MaxRegression float64 `json:"max_regression"`
	// Budget is the budget file applied, if any.
	Budget    string         `json:"budget,omitempty"`
	Level     float64        `json:"level"`
	Resamples int            `json:"resamples"`
	Metrics   []MetricChange `json:"metrics"`
	// Notes are what could not be compared and what a reader should know.
	Notes []string `json:"notes"`
	// Curves are the operations' percentile curves, base and new, for the
	// HTML rendering.
	Curves []PercentileCurves `json:"-"`
}

// MetricChange is one metric in both results, and its verdict. Every
// metric compared is worse when higher.
type MetricChange struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Unit is what Base, New, Diff and Floor are in: "ms", "%" or "".
	Unit string `json:"unit"`
	// Base is the baseline's value (with several baselines: latencies from
	// their merged histograms, other metrics their median).
	Base float64 `json:"base"`
	New  float64 `json:"new"`
	// Diff is New − Base; Change is Diff relative to Base (±Inf from 0).
	Diff   float64   `json:"diff"`
	Change jsonFloat `json:"change"`
	// Interval is the confidence interval of Diff (nil when the metric has
	// none), widened by Spread.
	Interval *Interval `json:"interval,omitempty"`
	// Spread is the baseline runs' own spread: the largest distance of one
	// baseline's value from Base (0 with one baseline).
	Spread float64 `json:"spread"`
	// DeffBase and DeffNew (latency percentiles) are the base's and the new
	// run's design effect at the percentile: how many times the variance
	// of a percentile of latencies clustered in time exceeds that of
	// independent ones (docs/compare.md#latencies-clustered-in-time). Each
	// run is resampled at its effective size, n / deff.
	DeffBase float64 `json:"deff_base,omitempty"`
	DeffNew  float64 `json:"deff_new,omitempty"`
	// CommonShift (latency percentiles) is, in ms, the share of Base by
	// which every other operation measured over the same stretch of the
	// runs moved the same way as this one, in their p50 service time (the
	// least of them): a shift of the whole machine, at most Diff. The
	// interval is widened by it on both sides
	// (docs/compare.md#a-shift-every-operation-shared).
	CommonShift float64 `json:"common_shift,omitempty"`
	// LagDiff (latencies) is how much the load generator's own scheduling
	// lag at this percentile differed between the runs, in ms: the interval
	// is widened by it too.
	LagDiff float64 `json:"lag_diff,omitempty"`
	// Floor and Limit are the absolute floor and relative limit; Threshold,
	// the larger of Floor and Limit·|Base|, is what Diff must exceed.
	Floor     float64 `json:"floor"`
	Limit     float64 `json:"limit"`
	Threshold float64 `json:"threshold"`
	// FloorFrom says what set Floor: "default", "budget" or "histogram
	// precision".
	FloorFrom string `json:"floor_from"`
	// measureFloor is the smallest change the histograms resolve.
	measureFloor     float64
	measureFloorFrom string
	// fewSamples: fewer than MinTailSamples requests of a run lie beyond
	// this percentile.
	fewSamples bool
	// Gated: the metric can fail the comparison.
	Gated   bool   `json:"gated"`
	Verdict string `json:"verdict"`
	// Failed: gated, and a regression or without data.
	Failed bool `json:"failed"`
	// NoDataIn says, for the verdict "no data", which runs had none: "new",
	// "base" (every baseline run), "2 of 3 baselines", or "base and new".
	NoDataIn string `json:"no_data_in,omitempty"`
}

// PercentileCurves is one operation's latency by percentile in both runs,
// on a shared grid x = 1/(1−p).
type PercentileCurves struct {
	Op        string
	X         []float64
	Base, New []float64
}

// Failures returns the gated metrics that failed.
func (c Comparison) Failures() []MetricChange {
	var out []MetricChange
	for _, m := range c.Metrics {
		if m.Failed {
			out = append(out, m)
		}
	}
	return out
}

// Regressed reports whether any gated metric failed.
func (c Comparison) Regressed() bool { return len(c.Failures()) > 0 }

// Metric returns the named metric and whether it was compared.
func (c Comparison) Metric(name string) (MetricChange, bool) {
	for _, m := range c.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricChange{}, false
}

// opMetrics are the metrics compared for each operation, in table order.
var opMetrics = []struct {
	suffix, kind string
	q            float64
}{{"p50", MetricLatency, 0.50}, {"p95", MetricLatency, 0.95}, {"p99", MetricLatency, 0.99}, {"max", MetricMax, 1}, {"error_rate", MetricRate, 0}}

// runMetrics are the fleet-wide metrics, in table order.
var runMetrics = []struct{ name, kind string }{
	{"herd.peak_to_mean", MetricRatio}, {"herd.amplification", MetricRatio},
	{"requests.lost", MetricCount}, {"sessions.forced_signouts", MetricCount},
}

// CompareMetricNames lists every metric compare knows, in table order.
func CompareMetricNames() []string {
	var names []string
	for _, op := range OpNames {
		for _, m := range opMetrics {
			names = append(names, op+"."+m.suffix)
		}
	}
	for _, m := range runMetrics {
		names = append(names, m.name)
	}
	return names
}

// metricKind returns the kind of a metric name known to compare.
func metricKind(name string) (string, bool) {
	for _, m := range runMetrics {
		if m.name == name {
			return m.kind, true
		}
	}
	op, suffix, ok := strings.Cut(name, ".")
	if !ok || !slices.Contains(OpNames, op) {
		return "", false
	}
	for _, m := range opMetrics {
		if m.suffix == suffix {
			return m.kind, true
		}
	}
	return "", false
}

// Compare holds cur against one baseline; see CompareBaselines.
func Compare(base, cur *Result, opt CompareOptions) Comparison {
	return CompareBaselines([]*Result{base}, cur, opt)
}

// CompareBaselines holds cur against one or more baseline results: for
// each operation the p50, p95, p99 and max latency and the error rate,
// then herd.peak_to_mean, herd.amplification, requests.lost and
// sessions.forced_signouts. A gated metric regresses when its change
// exceeds both its floor and its relative limit and its confidence
// interval (widened by the baselines' spread) lies wholly above zero.
// docs/compare.md describes the rules and the defaults.
func CompareBaselines(bases []*Result, cur *Result, opt CompareOptions) Comparison {
	if opt.Resamples <= 0 {
		opt.Resamples = DefaultResamples
	}
	if !(opt.Level > 0 && opt.Level < 1) {
		opt.Level = DefaultLevel
	}
	limit := opt.MaxRegression
	if opt.Budget != nil && opt.Budget.MaxChange != nil {
		limit = *opt.Budget.MaxChange
	}
	c := Comparison{Schema: CompareSchema, NewRunID: cur.RunID, MaxRegression: limit, Level: opt.Level, Resamples: opt.Resamples, Notes: []string{}}
	if opt.Budget != nil {
		c.Budget = opt.Budget.File
	}
	for _, b := range bases {
		c.BaseRunIDs = append(c.BaseRunIDs, b.RunID)
		if b.Profile.Name != cur.Profile.Name {
			c.Notes = append(c.Notes, fmt.Sprintf("the runs used different profiles: %q (base %s) and %q", b.Profile.Name, b.RunID, cur.Profile.Name))
		}
	}
	z := math.Sqrt2 * math.Erfinv(opt.Level)
	// The generator's own scheduling lag is in every latency measured from
	// an intended start. Where the runs' lag differs, the generator, not
	// the target, accounts for that much of a latency change: the interval
	// is widened by the difference (the baselines' median lag standing for
	// the base).
	lagOf := func(r *Result, q float64) float64 {
		switch {
		case q <= 0.5:
			return r.Engine.LagMs.P50
		case q < 1:
			return r.Engine.LagMs.P99
		}
		return r.Engine.LagMs.Max
	}
	lagDiff := func(q float64) float64 {
		var bl []float64
		for _, b := range bases {
			bl = append(bl, lagOf(b, q))
		}
		return math.Abs(lagOf(cur, q) - median(bl))
	}
	lagWidened := 0.0
	var few []string // percentiles not gated for want of samples beyond them
	var clustered []string
	shifts, controls := commonShifts(bases, cur)
	widened := map[string]bool{}
	add := func(m MetricChange, ruleName string) {
		rule := opt.Budget.rule(ruleName)
		m.Limit = limit
		m.Gated = m.Kind != MetricMax && !m.fewSamples
		m.FloorFrom = "default"
		if rule != nil {
			if rule.MaxChange != nil {
				m.Limit = *rule.MaxChange
			}
			if rule.Floor != nil {
				m.Floor, m.FloorFrom = *rule.Floor, "budget"
			}
			if rule.Gate {
				m.Gated = true
			}
		}
		if m.measureFloor > m.Floor {
			m.Floor, m.FloorFrom = m.measureFloor, m.measureFloorFrom
		}
		judge(&m, rule != nil && rule.Off)
		c.Metrics = append(c.Metrics, m)
	}

	for _, op := range OpNames {
		var bo []*Op
		for _, b := range bases {
			if o := b.Ops[op]; o != nil && o.Count > 0 {
				bo = append(bo, o)
			}
		}
		no := cur.Ops[op]
		nHas := no != nil && no.Count > 0
		switch {
		case len(bo) == 0 && !nHas:
			for _, m := range opMetrics {
				if name := op + "." + m.suffix; opt.Budget.namesExactly(name) {
					add(MetricChange{Name: name, Kind: m.kind, Unit: unitOf(m.kind), Verdict: VerdictNoData, NoDataIn: "base and new"}, name)
				}
			}
			continue
		case len(bo) < len(bases) || !nHas:
			// A run without samples of an operation the other runs made
			// shows nothing about it: its gated metrics fail, whichever
			// side lacks them (no data is not a pass).
			var in []string
			switch {
			case len(bo) == 0:
				in = append(in, "base")
			case len(bo) < len(bases):
				in = append(in, fmt.Sprintf("%d of %d baselines", len(bases)-len(bo), len(bases)))
			}
			if !nHas {
				in = append(in, "new")
			}
			where := strings.Join(in, " and ")
			c.Notes = append(c.Notes, fmt.Sprintf("%s: no data in %s", op, where))
			for _, m := range opMetrics {
				mc := MetricChange{Name: op + "." + m.suffix, Kind: m.kind, Unit: unitOf(m.kind), Verdict: VerdictNoData, NoDataIn: where}
				if nHas {
					mc.New = opValue(no, m.kind, m.q)
				}
				if len(bo) > 0 {
					mc.Base = opValue(bo[0], m.kind, m.q)
				}
				add(mc, mc.Name)
			}
			continue
		}
		lat := compareLatencies(bo, no)
		if lat.curves != nil {
			lat.curves.Op = op
			c.Curves = append(c.Curves, *lat.curves)
		}
		for _, m := range opMetrics {
			name := op + "." + m.suffix
			mc := MetricChange{Name: name, Kind: m.kind, Unit: unitOf(m.kind)}
			switch m.kind {
			case MetricLatency, MetricMax:
				mc.Base, mc.New = lat.base(m.q), lat.cur(m.q)
				mc.Floor = DefaultLatencyFloorMs
				mc.measureFloor, mc.measureFloorFrom = histPrecision*mc.Base, "histogram precision"
				mc.LagDiff = lagDiff(m.q)
				if s, ok := shifts[op]; ok && m.kind == MetricLatency && s*(mc.New-mc.Base) > 0 {
					// The machine accounts for at most the whole change,
					// and only for one its way.
					mc.CommonShift = min(math.Abs(s)*mc.Base, math.Abs(mc.New-mc.Base))
					widened[op] = true
				}
				if len(bo) > 1 {
					for _, o := range bo {
						mc.Spread = max(mc.Spread, math.Abs(summaryAt(compareLatency(o), m.q)-mc.Base))
					}
				}
				var baseCount int64
				for _, o := range bo {
					baseCount += o.Count
				}
				if m.kind == MetricLatency && float64(min(baseCount, no.Count))*(1-m.q) < MinTailSamples {
					mc.fewSamples = true
					few = append(few, name)
				}
				if m.kind == MetricLatency && lat.hasHistograms() {
					var bw []*OpWindows
					for _, o := range bo {
						bw = append(bw, o.Windows)
					}
					db, dn := 1.0, 1.0
					if de, ok := designEffect(bw, m.q); ok {
						mc.DeffBase, db = de.Deff, de.Deff
					}
					if de, ok := designEffect([]*OpWindows{no.Windows}, m.q); ok {
						mc.DeffNew, dn = de.Deff, de.Deff
					}
					if s := clusterNote(mc); s != "" && !mc.fewSamples {
						clustered = append(clustered, s)
					}
					iv := scaledQuantileDiffInterval(lat.baseE, lat.curE, m.q, opt.Resamples, opt.Level, metricSeed(name), db, dn)
					mc.Interval = &iv
					lagWidened = max(lagWidened, mc.LagDiff)
				}
			case MetricRate:
				var bn, be int64
				for _, o := range bo {
					bn += o.Count
					be += o.ErrorCount()
				}
				pb, pn := float64(be)/float64(bn), float64(no.ErrorCount())/float64(no.Count)
				mc.Base, mc.New = 100*pb, 100*pn
				mc.Floor = DefaultRateFloorPct
				if len(bo) > 1 {
					for _, o := range bo {
						mc.Spread = max(mc.Spread, math.Abs(100*float64(o.ErrorCount())/float64(o.Count)-mc.Base))
					}
				}
				half := 100 * z * math.Sqrt(pb*(1-pb)/float64(bn)+pn*(1-pn)/float64(no.Count))
				mc.Interval = &Interval{Low: mc.New - mc.Base - half, High: mc.New - mc.Base + half}
			}
			add(mc, name)
		}
	}

	if len(few) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: fewer than %d requests of a run beyond the percentile: shown, not gated (a budget's gate: true gates them)", strings.Join(few, ", "), MinTailSamples))
	}
	if s := commonShiftNote(shifts, controls, widened); s != "" {
		c.Notes = append(c.Notes, s)
	}
	if len(clustered) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("latencies clustered in time (design effect ≥ %g: that run resampled at its effective size, n / effect): %s", noteDeff, strings.Join(clustered, ", ")))
	}
	if lagWidened >= DefaultLatencyFloorMs {
		bl := bases[0].Engine.LagMs
		nl := cur.Engine.LagMs
		c.Notes = append(c.Notes, fmt.Sprintf("the load generator's own lag differed between the runs (engine.lag_ms p50 %s → %s, p99 %s → %s ms): latency intervals are widened by the difference", ms(bl.P50), ms(nl.P50), ms(bl.P99), ms(nl.P99)))
	}
	for _, rm := range runMetrics {
		vals := make([]float64, len(bases))
		for i, b := range bases {
			vals[i] = runMetricValue(b, rm.name)
		}
		mc := MetricChange{Name: rm.name, Kind: rm.kind, Unit: unitOf(rm.kind), Base: median(vals), New: runMetricValue(cur, rm.name)}
		if strings.HasPrefix(rm.name, "herd.") {
			// The herd's figures are the refreshes': a run without any
			// has none.
			if where := refreshlessRuns(bases, cur); where != "" {
				if where != "base and new" || opt.Budget.namesExactly(rm.name) {
					mc.Verdict, mc.NoDataIn = VerdictNoData, where
					add(mc, rm.name)
				}
				continue
			}
		}
		if len(bases) > 1 {
			for _, v := range vals {
				mc.Spread = max(mc.Spread, math.Abs(v-mc.Base))
			}
		}
		switch rm.name {
		case "herd.peak_to_mean":
			mc.Floor = DefaultPeakToMeanFloor
			if half, ok := peakToMeanHalfWidth(bases, cur, z); ok {
				mc.Interval = &Interval{Low: mc.New - mc.Base - half, High: mc.New - mc.Base + half}
			}
		case "herd.amplification":
			mc.Floor = DefaultAmplifFloor
			if half, ok := amplificationHalfWidth(bases, cur, z); ok {
				mc.Interval = &Interval{Low: mc.New - mc.Base - half, High: mc.New - mc.Base + half}
			}
		default:
			mc.Floor = DefaultCountFloor
		}
		add(mc, rm.name)
	}
	return c
}

// refreshlessRuns names the runs without a refresh — "base", "2 of 3
// baselines", "new", "base and new" — or "" when every run made some.
func refreshlessRuns(bases []*Result, cur *Result) string {
	has := func(r *Result) bool { o := r.Ops[OpRefresh]; return o != nil && o.Count > 0 }
	missing := 0
	for _, b := range bases {
		if !has(b) {
			missing++
		}
	}
	var in []string
	switch {
	case missing == len(bases):
		in = append(in, "base")
	case missing > 0:
		in = append(in, fmt.Sprintf("%d of %d baselines", missing, len(bases)))
	}
	if !has(cur) {
		in = append(in, "new")
	}
	return strings.Join(in, " and ")
}

// noteDeff is the design effect from which compare notes a percentile's.
const noteDeff = 2.0

// clusterNote names m with its design effects of at least noteDeff, as
// "sign_in.p95 (base 3.2, new 5.1)"; "" when neither is.
func clusterNote(m MetricChange) string {
	var parts []string
	if m.DeffBase >= noteDeff {
		parts = append(parts, fmt.Sprintf("base %.3g", m.DeffBase))
	}
	if m.DeffNew >= noteDeff {
		parts = append(parts, fmt.Sprintf("new %.3g", m.DeffNew))
	}
	if len(parts) == 0 {
		return ""
	}
	return m.Name + " (" + strings.Join(parts, ", ") + ")"
}

// judge sets m's difference, threshold and verdict.
func judge(m *MetricChange, off bool) {
	m.Threshold = max(m.Floor, m.Limit*math.Abs(m.Base))
	switch {
	case off:
		m.Gated, m.Verdict = false, VerdictOff
	case m.Verdict == VerdictNoData:
		m.Failed = m.Gated
		if !m.Gated {
			m.Verdict = VerdictInfo
		}
		return
	}
	m.Diff = m.New - m.Base
	m.Change = jsonFloat(relativeChange(m.Base, m.New))
	if m.Spread > 0 {
		if m.Interval == nil {
			m.Interval = &Interval{Low: m.Diff, High: m.Diff}
		}
		m.Interval.Low -= m.Spread
		m.Interval.High += m.Spread
	}
	if m.Interval != nil && m.LagDiff > 0 {
		m.Interval.Low -= m.LagDiff
		m.Interval.High += m.LagDiff
	}
	if m.Interval != nil && m.CommonShift > 0 {
		m.Interval.Low -= m.CommonShift
		m.Interval.High += m.CommonShift
	}
	if off {
		return
	}
	if !m.Gated {
		m.Verdict = VerdictInfo
		return
	}
	switch {
	case m.Diff > m.Threshold && (m.Interval == nil || m.Interval.Low > 0):
		m.Verdict, m.Failed = VerdictRegression, true
	case m.Diff < -m.Threshold && (m.Interval == nil || m.Interval.High < 0):
		m.Verdict = VerdictImprovement
	default:
		m.Verdict = VerdictNoise
	}
}

func unitOf(kind string) string {
	switch kind {
	case MetricLatency, MetricMax:
		return "ms"
	case MetricRate:
		return "%"
	}
	return ""
}

// latencies are one operation's latency distributions on both sides.
type latencies struct {
	baseE, curE       ecdf
	baseSum, curSum   Summary
	baseHist, curHist bool
	curves            *PercentileCurves
}

func (l latencies) hasHistograms() bool { return l.baseHist && l.curHist }

func (l latencies) base(q float64) float64 {
	if l.baseHist {
		return ecdfAt(l.baseE, q)
	}
	return summaryAt(l.baseSum, q)
}

func (l latencies) cur(q float64) float64 {
	if l.curHist {
		return ecdfAt(l.curE, q)
	}
	return summaryAt(l.curSum, q)
}

// ecdfAt is the q-quantile, the maximum for q = 1.
func ecdfAt(e ecdf, q float64) float64 {
	if q >= 1 {
		return e.values[len(e.values)-1]
	}
	return e.quantile(q)
}

// compareLatencies reads the operation's histograms: the baselines' merged,
// and the new run's. An operation without a readable histogram falls back
// to the summary it carries (no interval then).
func compareLatencies(bases []*Op, cur *Op) latencies {
	var l latencies
	var merged *hdrhistogram.Histogram
	ok := true
	for _, o := range bases {
		h := readHistogram(o)
		if h == nil {
			ok = false
			break
		}
		if merged == nil {
			merged = NewHistogram()
		}
		merged.Merge(h)
	}
	if ok && merged != nil {
		l.baseE, l.baseHist = newECDF(merged), true
	} else {
		l.baseSum = compareLatency(bases[0])
	}
	ch := readHistogram(cur)
	if ch != nil {
		l.curE, l.curHist = newECDF(ch), true
	} else {
		l.curSum = compareLatency(cur)
	}
	if l.hasHistograms() {
		l.curves = percentileCurves(merged, ch)
	}
	return l
}

// readHistogram decodes o's histogram, or returns nil.
func readHistogram(o *Op) *hdrhistogram.Histogram {
	if o.HDR == "" {
		return nil
	}
	h, err := DecodeHistogram(o.HDR)
	if err != nil || h.TotalCount() == 0 {
		return nil
	}
	return h
}

// percentileCurves reads both histograms on the HTML report's percentile
// grid (see htmlHDRChart), up to the larger count.
func percentileCurves(base, cur *hdrhistogram.Histogram) *PercentileCurves {
	maxN := float64(max(base.TotalCount(), cur.TotalCount()))
	decades := min(math.Ceil(math.Log10(max(maxN, 10))), htmlHDRMaxDecades)
	steps := int(decades*htmlHDRStepsPerDecade) + 1
	pc := &PercentileCurves{X: make([]float64, steps)}
	for k := range pc.X {
		pc.X[k] = math.Pow(10, float64(k)/htmlHDRStepsPerDecade)
	}
	read := func(h *hdrhistogram.Histogram) []float64 {
		n := float64(h.TotalCount())
		out := make([]float64, steps)
		for k, x := range pc.X {
			if x <= n && k < steps-1 {
				out[k] = float64(h.ValueAtQuantile(100*(1-1/x))) / 1000
			} else {
				out[k] = float64(h.Max()) / 1000
			}
		}
		return out
	}
	pc.Base, pc.New = read(base), read(cur)
	return pc
}

// opValue is an operation's figure of kind at percentile q (latencies, in
// ms) or its error rate (%), for a row without a comparison.
func opValue(o *Op, kind string, q float64) float64 {
	if kind == MetricRate {
		return 100 * float64(o.ErrorCount()) / float64(o.Count)
	}
	return summaryAt(compareLatency(o), q)
}

// compareLatency is an operation's latency summary, computed from its
// histogram when it has a readable one, else the summary it carries.
func compareLatency(o *Op) Summary {
	if h := readHistogram(o); h != nil {
		return Summarize(h)
	}
	return o.LatencyMs
}

// summaryAt reads the percentile q (0.5, 0.95, 0.99, 1 for the max) of s.
func summaryAt(s Summary, q float64) float64 {
	switch q {
	case 0.5:
		return s.P50
	case 0.95:
		return s.P95
	case 0.99:
		return s.P99
	}
	return s.Max
}

// runMetricValue reads a fleet-wide metric of r.
func runMetricValue(r *Result, name string) float64 {
	switch name {
	case "herd.peak_to_mean":
		return r.Herd.PeakToMean
	case "herd.amplification":
		return r.Herd.Amplification
	case "requests.lost":
		return float64(r.Requests.Lost)
	case "sessions.forced_signouts":
		return float64(r.Sessions.ForcedSignouts)
	}
	return math.NaN()
}

// peakToMeanHalfWidth is the half-width of the interval of the difference
// of peak-to-mean ratios, treating each run's peak 1 s window count as
// Poisson (variance = count): var(peak/mean) ≈ peak/mean². Several
// baselines contribute their median's term.
func peakToMeanHalfWidth(bases []*Result, cur *Result, z float64) (float64, bool) {
	v := func(r *Result) (float64, bool) {
		h := r.Herd
		if h.MeanRPS <= 0 || h.PeakRPS <= 0 {
			return 0, false
		}
		return h.PeakRPS / (h.MeanRPS * h.MeanRPS), true
	}
	return pairedHalfWidth(bases, cur, z, v)
}

// amplificationHalfWidth is the half-width of the interval of the
// difference of amplifications (attempts per success), treating the excess
// attempts A−S as Poisson: var(A/S) ≈ (A−S)/S².
func amplificationHalfWidth(bases []*Result, cur *Result, z float64) (float64, bool) {
	v := func(r *Result) (float64, bool) {
		o := r.Ops[OpRefresh]
		if o == nil || o.OK <= 0 {
			return 0, false
		}
		return float64(o.Count-o.OK) / float64(o.OK*o.OK), true
	}
	return pairedHalfWidth(bases, cur, z, v)
}

// pairedHalfWidth is z·√(var_base + var_new) from per-run variances, the
// baselines' median variance standing for the base.
func pairedHalfWidth(bases []*Result, cur *Result, z float64, variance func(*Result) (float64, bool)) (float64, bool) {
	vn, ok := variance(cur)
	if !ok {
		return 0, false
	}
	var vb []float64
	for _, b := range bases {
		v, ok := variance(b)
		if !ok {
			return 0, false
		}
		vb = append(vb, v)
	}
	return z * math.Sqrt(median(vb)+vn), true
}

// median of vs (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// relativeChange is (n − b) / b, with 0 for 0 → 0 and ±Inf from a zero base.
func relativeChange(b, n float64) float64 {
	switch {
	case b == n:
		return 0
	case b == 0:
		return math.Inf(int(math.Copysign(1, n)))
	default:
		return (n - b) / math.Abs(b)
	}
}

// jsonFloat is a float that encodes NaN and ±Inf as null.
type jsonFloat float64

// MarshalJSON writes f, or null when it is not finite.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return []byte(fmt.Sprint(v)), nil
}
