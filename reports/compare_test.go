package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// latencyHist records n latencies drawn around median (log-normal, σ 0.3)
// plus shift, from seed.
func latencyHist(n int, median, shift time.Duration, seed uint64) *hdrhistogram.Histogram {
	r := rand.New(rand.NewPCG(seed, 1))
	h := NewHistogram()
	for range n {
		d := time.Duration(float64(median)*math.Exp(0.3*r.NormFloat64())) + shift
		RecordLatency(h, d)
	}
	return h
}

// opOf is an operation of n requests with h's latencies.
func opOf(t testing.TB, h *hdrhistogram.Histogram, errs int64) *Op {
	t.Helper()
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	n := h.TotalCount()
	return &Op{Count: n, OK: n - errs, Errors: map[string]int64{"http_5xx": errs}, LatencyMs: Summarize(h), HDR: enc}
}

// resultWith is a result whose refresh latencies are h.
func resultWith(t testing.TB, id string, h *hdrhistogram.Histogram) *Result {
	return &Result{RunID: id, Ops: map[string]*Op{OpRefresh: opOf(t, h, 0)},
		Herd: Herd{PeakRPS: 60, MeanRPS: 50, PeakToMean: 1.2, Amplification: 1}}
}

func TestECDFQuantileMatchesHdrHistogram(t *testing.T) {
	h := latencyHist(5000, 20*time.Millisecond, 0, 1)
	e := newECDF(h)
	for _, q := range []float64{0.001, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		if got, want := e.quantile(q), float64(h.ValueAtQuantile(100*q))/1000; got != want {
			t.Errorf("q %v: %v ms, hdrhistogram says %v", q, got, want)
		}
	}
}

func TestQuantileDiffIntervalCoversTheTruth(t *testing.T) {
	// Two samples of one distribution: the interval holds 0, and it is the
	// same every time. The same with +30 ms: the interval holds 30, not 0.
	a, b := newECDF(latencyHist(2000, 5*time.Millisecond, 0, 1)), newECDF(latencyHist(2000, 5*time.Millisecond, 0, 2))
	slow := newECDF(latencyHist(2000, 5*time.Millisecond, 30*time.Millisecond, 3))
	for _, q := range []float64{0.5, 0.95, 0.99} {
		iv := quantileDiffInterval(a, b, q, DefaultResamples, DefaultLevel, 7)
		if iv.Excludes0() {
			t.Errorf("q %v, same distribution: interval %+v excludes 0", q, iv)
		}
		if again := quantileDiffInterval(a, b, q, DefaultResamples, DefaultLevel, 7); again != iv {
			t.Errorf("q %v: not deterministic: %+v then %+v", q, iv, again)
		}
		iv = quantileDiffInterval(a, slow, q, DefaultResamples, DefaultLevel, 7)
		if !(iv.Low > 0 && iv.Low < 30 && iv.High > 30) {
			t.Errorf("q %v, +30 ms: interval %+v should hold 30 and not 0", q, iv)
		}
	}
}

func TestQuantileDiffIntervalCalibration(t *testing.T) {
	// Over many pairs of samples of one distribution, a 95% interval of the
	// p50 difference misses 0 about 5% of the time, not 30%.
	misses := 0
	const trials = 200
	for i := range trials {
		a := newECDF(latencyHist(400, 5*time.Millisecond, 0, uint64(2*i+10)))
		b := newECDF(latencyHist(400, 5*time.Millisecond, 0, uint64(2*i+11)))
		if quantileDiffInterval(a, b, 0.5, 1000, DefaultLevel, uint64(i)).Excludes0() {
			misses++
		}
	}
	if misses > trials*12/100 {
		t.Errorf("the 95%% interval missed the true difference (0) in %d of %d trials", misses, trials)
	}
}

func BenchmarkQuantileDiffInterval(b *testing.B) {
	base, cur := newECDF(latencyHist(100000, 5*time.Millisecond, 0, 1)), newECDF(latencyHist(100000, 6*time.Millisecond, 0, 2))
	for b.Loop() {
		quantileDiffInterval(base, cur, 0.99, DefaultResamples, DefaultLevel, 1)
	}
}

func BenchmarkCompare(b *testing.B) {
	base := resultWith(b, "a", latencyHist(100000, 5*time.Millisecond, 0, 1))
	cur := resultWith(b, "b", latencyHist(100000, 5*time.Millisecond, 0, 2))
	for b.Loop() {
		Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	}
}

func TestCompareSubMillisecondJitterIsNoise(t *testing.T) {
	// +12% on a 1.4 ms p50 with thousands of samples is significant, but
	// below the 1 ms floor: noise. The maximum is informational.
	base := resultWith(t, "a", latencyHist(5000, 1400*time.Microsecond, 0, 1))
	cur := resultWith(t, "b", latencyHist(5000, 1400*time.Microsecond, 170*time.Microsecond, 2))
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	p50, _ := c.Metric("refresh.p50")
	if p50.Verdict != VerdictNoise || p50.Failed || p50.Change < 0.08 || p50.Interval == nil || !p50.Interval.Excludes0() || p50.Floor != 1 {
		t.Errorf("refresh.p50: %+v", p50)
	}
	if mx, _ := c.Metric("refresh.max"); mx.Verdict != VerdictInfo || mx.Gated || mx.Failed {
		t.Errorf("refresh.max: %+v", mx)
	}
	if c.Regressed() {
		t.Errorf("regressed: %v", c.Failures())
	}
}

func TestCompareCatchesFivePercentOfATwoSecondP99WithABudget(t *testing.T) {
	base := resultWith(t, "a", latencyHist(20000, 2*time.Second, 0, 1))
	cur := resultWith(t, "b", latencyHist(20000, 2100*time.Millisecond, 0, 2))
	b, err := ParseBudget("budget.yaml", []byte("metrics:\n  refresh.p99: {max_change: 3%}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1, Budget: b})
	p99, _ := c.Metric("refresh.p99")
	if p99.Verdict != VerdictRegression || !p99.Failed || p99.Limit != 0.03 || p99.Floor < 2 {
		t.Errorf("refresh.p99 +5%% of ≈3.6 s: %+v", p99)
	}
	if p50, _ := c.Metric("refresh.p50"); p50.Limit != 0.1 || p50.Failed {
		t.Errorf("refresh.p50 keeps the 10%% limit: %+v", p50)
	}
}

func TestCompareBaselinesSpreadIsTheNoiseBand(t *testing.T) {
	// Three baselines whose p50 differ by a few ms among themselves (a
	// machine's run-to-run noise); each run on its own is tight.
	var bases []*Result
	for i, shift := range []time.Duration{0, 3 * time.Millisecond, 6 * time.Millisecond} {
		bases = append(bases, resultWith(t, "main-"+string(rune('1'+i)), latencyHist(3000, 10*time.Millisecond, shift, uint64(i+1))))
	}
	within := resultWith(t, "pr", latencyHist(3000, 10*time.Millisecond, 5*time.Millisecond, 9))
	// Against one baseline, +5 ms is a regression; against the three, noise.
	if m, _ := Compare(bases[0], within, CompareOptions{MaxRegression: 0.1}).Metric("refresh.p50"); m.Verdict != VerdictRegression {
		t.Fatalf("one baseline: %+v", m)
	}
	c := CompareBaselines(bases, within, CompareOptions{MaxRegression: 0.1})
	m, _ := c.Metric("refresh.p50")
	if m.Verdict != VerdictNoise || m.Spread < 2 || m.Interval == nil || m.Interval.Low > 0 || len(c.BaseRunIDs) != 3 {
		t.Errorf("three baselines, +5 ms within their spread: %+v", m)
	}
	beyond := resultWith(t, "pr", latencyHist(3000, 10*time.Millisecond, 30*time.Millisecond, 9))
	if m, _ := CompareBaselines(bases, beyond, CompareOptions{MaxRegression: 0.1}).Metric("refresh.p50"); m.Verdict != VerdictRegression || !m.Failed {
		t.Errorf("three baselines, +30 ms: %+v", m)
	}
	if !strings.Contains(comparisonText(t, c), "3 baselines") {
		t.Errorf("header does not say there are 3 baselines:\n%s", comparisonText(t, c))
	}
}

func TestCompareNoDataInTheNewRunFails(t *testing.T) {
	base := resultWith(t, "a", latencyHist(500, 5*time.Millisecond, 0, 1))
	cur := &Result{RunID: "b", Ops: map[string]*Op{}}
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	for _, name := range []string{"refresh.p50", "refresh.p95", "refresh.p99", "refresh.error_rate"} {
		if m, ok := c.Metric(name); !ok || m.Verdict != VerdictNoData || !m.Failed {
			t.Errorf("%s: %+v", name, m)
		}
	}
	if m, _ := c.Metric("refresh.max"); m.Failed {
		t.Errorf("informational max failed: %+v", m)
	}
	out := comparisonText(t, c)
	if !strings.Contains(lineWith(out, "refresh.p99"), "NO DATA") || !strings.Contains(out, "refresh.p99 (no data)") {
		t.Errorf("table:\n%s", out)
	}
	// A metric the budget names exactly fails without data, even when the
	// base has none either.
	b, err := ParseBudget("b.yaml", []byte("metrics:\n  get_token.p99: 10%\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := Compare(base, base, CompareOptions{MaxRegression: 0.1, Budget: b}).Metric("get_token.p99"); !ok || !m.Failed {
		t.Errorf("get_token.p99 named by the budget, no data: %+v", m)
	}
}

func TestCompareGeneratorLagDifferenceWidensTheInterval(t *testing.T) {
	base := resultWith(t, "a", latencyHist(3000, 10*time.Millisecond, 0, 1))
	cur := resultWith(t, "b", latencyHist(3000, 10*time.Millisecond, 20*time.Millisecond, 2))
	// Both runs lagged alike: the lag explains no difference.
	base.Engine.LagMs = LagSummary{P50: 0.5, P99: 100, Max: 400}
	cur.Engine.LagMs = LagSummary{P50: 0.5, P99: 100, Max: 400}
	if m, _ := Compare(base, cur, CompareOptions{MaxRegression: 0.1}).Metric("refresh.p99"); m.Verdict != VerdictRegression || m.LagDiff != 0 {
		t.Fatalf("+20 ms, equal lag: %+v", m)
	}
	// The new run's generator lagged 40 ms more at p99: a +20 ms p99 is
	// within what the generator accounts for; the p50 lag did not move.
	cur.Engine.LagMs.P99 = 140
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	m, _ := c.Metric("refresh.p99")
	if m.Verdict != VerdictNoise || m.LagDiff != 40 || m.Interval == nil || m.Interval.Low > -10 {
		t.Errorf("+20 ms with the p99 lag 40 ms apart: %+v", m)
	}
	if p50, _ := c.Metric("refresh.p50"); p50.Verdict != VerdictRegression || p50.LagDiff != 0 {
		t.Errorf("+20 ms at p50, same p50 lag: %+v", p50)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), "lag differed") {
		t.Errorf("no note on the lag: %q", c.Notes)
	}
}

func TestBudgetRules(t *testing.T) {
	src, err := os.ReadFile("../examples/ci/budget.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBudget("budget.yaml", src)
	if err != nil {
		t.Fatalf("the example budget: %v", err)
	}
	if b.MaxChange == nil || *b.MaxChange != 0.05 {
		t.Errorf("max_change %v", b.MaxChange)
	}
	if r := b.rule("refresh.p99"); r == nil || *r.MaxChange != 0.03 || *r.Floor != 2 {
		t.Errorf("refresh.p99: %+v", r)
	}
	if r := b.rule("sign_in.p50"); r == nil || !r.Off {
		t.Errorf("sign_in.p50: %+v", r)
	}
	if r := b.rule("refresh.error_rate"); r == nil || *r.Floor != 0.2 {
		t.Errorf("refresh.error_rate: %+v", r)
	}
	if r := b.rule("api.p50"); r != nil {
		t.Errorf("api.p50 has a rule: %+v", r)
	}

	base := resultWith(t, "a", latencyHist(500, 5*time.Millisecond, 0, 1))
	base.Ops[OpSignIn] = opOf(t, latencyHist(100, time.Millisecond, 0, 2), 0)
	slowSignIn := resultWith(t, "b", latencyHist(500, 5*time.Millisecond, 0, 1))
	slowSignIn.Ops[OpSignIn] = opOf(t, latencyHist(100, time.Millisecond, 50*time.Millisecond, 3), 0)
	c := Compare(base, slowSignIn, CompareOptions{MaxRegression: 0.1, Budget: b})
	if m, _ := c.Metric("sign_in.p50"); m.Verdict != VerdictOff || m.Failed || c.Regressed() || c.Budget != "budget.yaml" {
		t.Errorf("sign_in.p50 is off in the budget: %+v", m)
	}
	gate, err := ParseBudget("g.yaml", []byte("metrics:\n  \"*.max\": gate\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := Compare(base, slowSignIn, CompareOptions{MaxRegression: 0.1, Budget: gate}).Metric("sign_in.max"); !m.Gated || m.Verdict != VerdictRegression {
		t.Errorf("sign_in.max gated: %+v", m)
	}
}

func TestBudgetErrorsNameFileLineAndField(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"max_change: lots\n", `b.yaml:1: max_change: want a percentage`},
		{"metrics:\n  refresh.p99: {floor: fast}\n", `b.yaml:2: metrics.refresh.p99.floor: want a duration such as "2ms", got "fast"`},
		{"metrics:\n  refresh.p99: {max_change: 10}\n", `b.yaml:2: metrics.refresh.p99.max_change: "10" is ambiguous`},
		{"metrics:\n  refresh.p42: off\n", `b.yaml:2: metrics.refresh.p42: no such metric`},
		{"metrics:\n  refresh.p99: {celing: 1}\n", `b.yaml:2: metrics.refresh.p99.celing: unknown field`},
		{"metrics:\n  \"refresh.*\": {floor: 2ms}\n", `b.yaml:2: metrics.refresh.*.floor: the pattern matches metrics of different units`},
		{"metrics:\n  refresh.p99: {gate: maybe}\n", `b.yaml:2: metrics.refresh.p99.gate: want true or false`},
		{"metric:\n  refresh.p99: off\n", `b.yaml:1: metric: unknown field`},
		{"metrics: [a, b]\n", `b.yaml:1: metrics: want a mapping`},
		{"metrics:\n  refresh.p99: {floor: 2ms\n", `b.yaml:`},
		{"", `b.yaml: empty budget`},
		{"- 1\n", `b.yaml:1: want a mapping`},
		{"metrics:\n  api.error_rate: {floor: -1%}\n", `b.yaml:2: metrics.api.error_rate.floor: must be a finite number ≥ 0`},
	} {
		_, err := ParseBudget("b.yaml", []byte(tc.src))
		var be *BudgetError
		if err == nil || !errors.As(err, &be) || !errors.Is(err, ErrInvalidBudget) || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v; want one line starting %q", tc.src, err, tc.want)
		}
	}
}

func TestComparisonRenderingsShowTheSameVerdicts(t *testing.T) {
	base := resultWith(t, "base-run", latencyHist(2000, 5*time.Millisecond, 0, 1))
	cur := resultWith(t, "new-run", latencyHist(2000, 5*time.Millisecond, 30*time.Millisecond, 2))
	base.Ops[OpAPI] = opOf(t, latencyHist(800, 2*time.Millisecond, 0, 3), 0)
	cur.Ops[OpAPI] = opOf(t, latencyHist(800, 2*time.Millisecond, 0, 4), 0)
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	want := map[string]string{}
	for _, m := range c.Metrics {
		want[m.Name] = verdictWord(m)
	}
	if want["refresh.p50"] != "REGRESSION" || want["api.p50"] != "noise" || want["refresh.max"] != "info" {
		t.Fatalf("verdicts %v", want)
	}
	render := func(format string) string {
		var b bytes.Buffer
		if err := RenderComparison(&b, c, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return b.String()
	}

	text, md := render("text"), render("markdown")
	for name, v := range want {
		if l := lineWith(text, name+" "); !strings.HasSuffix(l, v) {
			t.Errorf("text: %s line %q, want verdict %s", name, l, v)
		}
		if l := lineWith(md, "`"+name+"`"); !strings.HasSuffix(strings.Trim(l, " |*"), v) {
			t.Errorf("markdown: %s line %q, want verdict %s", name, l, v)
		}
	}

	var js struct {
		Schema    string   `json:"schema"`
		Regressed bool     `json:"regressed"`
		Failures  []string `json:"failures"`
		Metrics   []struct {
			Name, Verdict string
			Failed        bool
			Interval      *Interval
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(render("json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Schema != CompareSchema || !js.Regressed || len(js.Failures) != len(c.Failures()) {
		t.Errorf("json: %+v", js)
	}
	for _, m := range js.Metrics {
		if strings.ToLower(want[m.Name]) != m.Verdict {
			t.Errorf("json: %s verdict %q, text says %q", m.Name, m.Verdict, want[m.Name])
		}
	}

	var ju struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(render("junit")), &ju); err != nil {
		t.Fatal(err)
	}
	gated := 0
	for _, m := range c.Metrics {
		if m.Gated {
			gated++
		}
	}
	if len(ju.Suites) != 1 || ju.Suites[0].Tests != gated || len(ju.Suites[0].Cases) != gated || ju.Suites[0].Failures != len(c.Failures()) {
		t.Fatalf("junit: %+v; want %d testcases", ju, gated)
	}
	for _, tc := range ju.Suites[0].Cases {
		v := want[tc.Name]
		switch {
		case v == "REGRESSION" && (tc.Failure == nil || tc.Failure.Type != VerdictRegression):
			t.Errorf("junit: %s should fail as a regression", tc.Name)
		case v != "REGRESSION" && (tc.Failure != nil || !strings.Contains(tc.Out, "verdict: "+v)):
			t.Errorf("junit: %s: %+v, want verdict %s", tc.Name, tc, v)
		case v == "info" || v == "":
			t.Errorf("junit: %s is not gated but has a testcase", tc.Name)
		}
	}

	page := render("html")
	for name, v := range want {
		row := `<tr data-metric="` + name + `" data-verdict="` + strings.ToLower(v) + `">`
		i := strings.Index(page, row)
		if i < 0 {
			t.Errorf("html: no row %s", row)
			continue
		}
		end := i + strings.Index(page[i:], "</tr>")
		if !strings.Contains(page[i:end], ">"+v+"</td>") {
			t.Errorf("html: %s row %q lacks %s", name, page[i:end], v)
		}
	}
	for _, op := range []string{OpRefresh, OpAPI} {
		i := strings.Index(page, `<figure data-op="`+op+`">`)
		if i < 0 {
			t.Errorf("html: no percentile chart for %s", op)
			continue
		}
		fig := page[i : i+strings.Index(page[i:], "</figure>")]
		if !strings.Contains(fig, `data-series="base"`) || !strings.Contains(fig, `data-series="new"`) {
			t.Errorf("html: %s chart does not overlay both runs", op)
		}
	}
	if !strings.Contains(page, `data-verdict="fail"`) || strings.Contains(page, "<script") || strings.Contains(page, "http-equiv") {
		t.Errorf("html page: verdict missing or it loads scripts")
	}
	if err := RenderComparison(&bytes.Buffer{}, c, "pdf"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("pdf: %v", err)
	}
}

func TestComparisonJSONHasNoInfinity(t *testing.T) {
	base, cur := renderSample(t, 1), renderSample(t, 1)
	cur.Requests.Lost = 2 // +∞ from 0
	var b bytes.Buffer
	if err := WriteComparisonJSON(&b, Compare(base, cur, CompareOptions{MaxRegression: 0.1})); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) || !strings.Contains(b.String(), `"change": null`) {
		t.Errorf("json:\n%s", b.String())
	}
}

// TestCompareNoDataInABaselineFails: an operation the new run made and a
// baseline did not is no pass either: its gated metrics fail with "no
// data", naming the base, unless the budget turns them off.
func TestCompareNoDataInABaselineFails(t *testing.T) {
	cur := resultWith(t, "new", latencyHist(500, 5*time.Millisecond, 0, 1))
	base := &Result{RunID: "base", Ops: map[string]*Op{}}
	c := Compare(base, cur, CompareOptions{MaxRegression: 0.1})
	for _, name := range []string{"refresh.p50", "refresh.p95", "refresh.p99", "refresh.error_rate"} {
		if m, ok := c.Metric(name); !ok || m.Verdict != VerdictNoData || !m.Failed || m.NoDataIn != "base" {
			t.Errorf("%s: %+v", name, m)
		}
	}
	out := comparisonText(t, c)
	if line := lineWith(out, "refresh.p50"); !strings.Contains(line, "no data") || !strings.Contains(line, " ms") || !strings.HasSuffix(line, "NO DATA") {
		t.Errorf("refresh.p50 row %q", line)
	}
	if !strings.Contains(out, "note: refresh: no data in base") {
		t.Errorf("no note:\n%s", out)
	}
	var junit bytes.Buffer
	if err := RenderComparison(&junit, c, "junit"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), "refresh.p99: no data in the base run") {
		t.Errorf("junit:\n%s", junit.String())
	}
	// One of three baselines without data fails too.
	full := resultWith(t, "full", latencyHist(500, 5*time.Millisecond, 0, 2))
	c = CompareBaselines([]*Result{full, base, full}, cur, CompareOptions{MaxRegression: 0.1})
	if m, _ := c.Metric("refresh.p50"); !m.Failed || m.NoDataIn != "1 of 3 baselines" {
		t.Errorf("1 of 3 baselines without data: %+v", m)
	}
	// The budget may turn them off.
	b, err := ParseBudget("b.yaml", []byte("metrics:\n  refresh.*: off\n  herd.*: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := Compare(base, cur, CompareOptions{MaxRegression: 0.1, Budget: b}); c.Regressed() {
		t.Errorf("refresh.* off: %+v", c.Failures())
	}
}
