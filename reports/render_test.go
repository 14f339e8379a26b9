package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// renderSample is a hand-made result with real histograms, four thresholds
// (refresh.p99 failing), herd figures and three fleet events, one of them
// refused by the target with a message that needs escaping. Latencies are
// multiplied by scale, so a doctored slower copy is renderSample(t, 1.5).
func renderSample(t *testing.T, scale float64) *Result {
	t.Helper()
	op := func(count, ok int64, errs map[string]int64, lat ...time.Duration) *Op {
		h := NewHistogram()
		for _, d := range lat {
			RecordLatency(h, time.Duration(float64(d)*scale))
		}
		enc, err := EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		s := Summarize(h)
		return &Op{Count: count, OK: ok, Errors: errs, LatencyMs: s, ServiceMs: &s, HDR: enc}
	}
	var refresh []time.Duration
	for i := range 196 {
		refresh = append(refresh, time.Duration(20+i%40)*time.Millisecond)
	}
	refresh = append(refresh, 300*time.Millisecond, 310*time.Millisecond, 312*time.Millisecond, 480*time.Millisecond)
	var api []time.Duration
	for i := range 100 {
		api = append(api, time.Duration(5+i%10)*time.Millisecond)
	}
	recovered := 2.5
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	return &Result{
		Schema: Schema, RunID: "20261128-093000-c0ffee", ToolVersion: "v0.4.0",
		Profile: profiles.Profile{
			Name: "steady", Clients: 1000, Duration: profiles.Duration(30 * time.Second),
			Ramp: profiles.Duration(5 * time.Second), TimeScale: 10, Seed: 42,
		},
		Target:    Target{Kind: "embedded", URL: "http://127.0.0.1:40123"},
		StartedAt: start, EndedAt: start.Add(30*time.Second + 400*time.Millisecond), Shard: Shard{Count: 1},
		Ops: map[string]*Op{
			OpSignIn:  op(4, 4, map[string]int64{}, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, 40*time.Millisecond),
			OpRefresh: op(200, 199, map[string]int64{"http_5xx": 1}, refresh...),
			OpAPI:     op(100, 98, map[string]int64{"http_401": 2}, api...),
		},
		Sessions: Sessions{ByStatus: map[string]int64{"active": 997, "revoked": 3}, ForcedSignouts: 3, ReSignIns: 3},
		Requests: Requests{Issued: 100, Settled: 100, OK: 98, UserVisibleErrors: 2},
		Engine:   Engine{LagMs: LagSummary{P50: 0.05, P99: 0.8, Max: 3}, Clients: 1000, Goroutines: 1012, MaxRSSBytes: 96 << 20},
		Herd: Herd{PeakRPS: 41, MeanRPS: 16.4, PeakToMean: 2.5, MaxInflight: 12, Amplification: 1.005,
			DuplicateRefreshes: 3, Retries: 1, RetriesShare: 0.005, Dispersion: 3.75},
		Events: []Event{
			{Index: 0, Type: "network_outage", At: "10s", StartS: 1, EndS: 1.2, Clients: 500, Burst10s: 120, API401: 4, RecoveryS: &recovered},
			{Index: 1, Type: "key_rotation", At: "50%", StartS: 1.5, EndS: 1.5, Burst10s: 8, ForcedSignouts: 3},
			{Index: 2, Type: "revocation_wave", At: "90%", StartS: 2.7, EndS: 2.7, Error: "admin: 503 <nil> | try later"},
		},
		Thresholds: []ThresholdResult{
			{Expr: "refresh.p99 < 250ms", Value: 312.4, OK: false},
			{Expr: "refresh.error_rate < 1%", Value: 0.5, OK: true},
			{Expr: "herd.peak_to_mean < 4", Value: 2.5, OK: true},
			{Expr: "requests.lost == 0", Value: 0, OK: true},
		},
		Verdict: VerdictFail,
	}
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed (go test ./reports -update to accept):\n%s\nwant:\n%s", name, got, want)
	}
}

func TestRenderEveryFormat(t *testing.T) {
	r := renderSample(t, 1)
	for _, want := range []string{"text", "json", "html", "junit", "markdown", "hgrm"} {
		if !slices.Contains(Formats(), want) {
			t.Errorf("Formats() = %v, lacks %s", Formats(), want)
		}
	}
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Render(&b, r, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if b.Len() == 0 {
			t.Errorf("%s: empty output", f)
		}
	}

	var text, viaRender bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := Render(&viaRender, r, "text"); err != nil || viaRender.String() != text.String() {
		t.Errorf("text format is not WriteText: %v", err)
	}

	path := filepath.Join(t.TempDir(), "result.json")
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(path)
	var js bytes.Buffer
	if err := Render(&js, r, "json"); err != nil || js.String() != string(file) {
		t.Errorf("json format differs from result.json (err %v):\n%s", err, js.String())
	}
}

func TestRenderUnknownFormatListsFormats(t *testing.T) {
	var b bytes.Buffer
	err := Render(&b, renderSample(t, 1), "pdf")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("want ErrUnknownFormat, got %v", err)
	}
	for _, f := range append(Formats(), `"pdf"`) {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not name %s", err, f)
		}
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
}

func TestThresholdFailureText(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		value float64
		want  string
	}{
		{"refresh.p99 < 250ms", 312.4, "refresh.p99 = 312.4 ms, limit < 250 ms"},
		{"refresh.error_rate<1%", 2.345678, "refresh.error_rate = 2.346%, limit < 1%"},
		{"herd.peak_to_mean <= 4", 6, "herd.peak_to_mean = 6, limit <= 4"},
		{"requests.lost == 0", 3, "requests.lost = 3, limit == 0"},
		{"sessions.forced_signouts != 0", 0, "sessions.forced_signouts = 0, limit != 0"},
		{"api.p95 >= 1.5s", 1.2, "api.p95 = 1.2 s, limit >= 1.5 s"},
		{"garbage", 1, "garbage: value 1"},
	} {
		if got := thresholdFailureText(ThresholdResult{Expr: tc.expr, Value: tc.value}); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, renderSample(t, 1)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.md.golden", b.Bytes())
	out := b.String()
	for _, want := range []string{
		"## stampede: FAIL", "1 of 4 thresholds failed", "| `refresh.p99 < 250ms` | 312.4 ms | **FAIL** |",
		"| refresh | 200 | 1 | 0.50 |", "| peak to mean | 2.5 |", "| 0 | network_outage | 10s | 120 | 2.5 | 0 |",
		"| 1 | key_rotation | 50% | 8 | not recovered | 3 |", `503 &lt;nil> \| try later`, "**Requests:** 100 issued",
		"**Sessions:** 997 active, 3 revoked · 3 forced sign-outs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestWriteMarkdownPassAndPartial(t *testing.T) {
	r := renderSample(t, 1)
	r.Thresholds, r.Verdict, r.Events = nil, VerdictPass, nil
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.HasPrefix(out, "## stampede: PASS\n") || !strings.Contains(out, "No thresholds were set.") ||
		strings.Contains(out, "### Thresholds") || strings.Contains(out, "### Fleet events") {
		t.Errorf("pass without thresholds or events:\n%s", out)
	}
	r.Partial = true
	b.Reset()
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "## stampede: PASS (partial: the run was interrupted)\n") {
		t.Errorf("partial run:\n%s", b.String())
	}
}

// testJUnitSuites and testJUnitSuite are the JUnit shape CI systems read,
// declared apart from the writer's own types.
type (
	testJUnitSuites struct {
		Tests    int              `xml:"tests,attr"`
		Failures int              `xml:"failures,attr"`
		Suites   []testJUnitSuite `xml:"testsuite"`
	}
	testJUnitSuite struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Time       string `xml:"time,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	}
)

// parseJUnit parses b and checks its counts agree; it returns the one testsuite.
func parseJUnit(t *testing.T, b []byte) testJUnitSuite {
	t.Helper()
	var doc testJUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, b)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("want one testsuite, got %d", len(doc.Suites))
	}
	s := doc.Suites[0]
	if doc.Tests != s.Tests || doc.Failures != s.Failures || s.Tests != len(s.Cases) {
		t.Errorf("counts disagree: testsuites %d/%d, testsuite %d/%d, %d testcases", doc.Tests, doc.Failures, s.Tests, s.Failures, len(s.Cases))
	}
	return s
}

func TestWriteJUnitGoldenAndShape(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, renderSample(t, 1)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.junit.golden", b.Bytes())
	if !strings.HasPrefix(b.String(), `<?xml version="1.0" encoding="UTF-8"?>`) ||
		!strings.Contains(b.String(), `name="refresh.p99 &lt; 250ms"`) {
		t.Errorf("want an XML declaration and escaped names:\n%s", b.String())
	}
	s := parseJUnit(t, b.Bytes())
	if s.Name != "stampede" || s.Tests != 4 || s.Failures != 1 || s.Time != "30.400" {
		t.Errorf("testsuite %q: %d tests, %d failures, time %s", s.Name, s.Tests, s.Failures, s.Time)
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["run_id"] != "20261128-093000-c0ffee" || props["profile"] != "steady" || props["target"] != "embedded http://127.0.0.1:40123" {
		t.Errorf("properties: %v", props)
	}
	c := s.Cases[0]
	if c.Classname != "stampede.thresholds" || c.Name != "refresh.p99 < 250ms" || c.Failure == nil ||
		c.Failure.Type != "threshold" || c.Failure.Message != "refresh.p99 = 312.4 ms, limit < 250 ms" || c.Failure.Text == "" {
		t.Errorf("failing testcase: %+v %+v", c, c.Failure)
	}
	for _, c := range s.Cases[1:] {
		if c.Failure != nil {
			t.Errorf("%s failed: %+v", c.Name, c.Failure)
		}
	}
}

func TestWriteJUnitWithoutThresholds(t *testing.T) {
	r := renderSample(t, 1)
	r.Thresholds, r.Verdict = nil, VerdictPass
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	s := parseJUnit(t, b.Bytes())
	if len(s.Cases) != 1 || s.Cases[0].Name != "run completed" || s.Cases[0].Failure != nil || s.Failures != 0 {
		t.Fatalf("want one passing \"run completed\":\n%s", b.String())
	}

	r.Partial = true
	b.Reset()
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	s = parseJUnit(t, b.Bytes())
	if len(s.Cases) != 1 || s.Cases[0].Failure == nil || s.Cases[0].Failure.Type != "partial" || s.Failures != 1 {
		t.Fatalf("want a failing \"run completed\" for a partial run:\n%s", b.String())
	}

	r = renderSample(t, 1)
	r.Partial = true
	b.Reset()
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if s = parseJUnit(t, b.Bytes()); s.Tests != 5 || s.Failures != 2 {
		t.Fatalf("partial with thresholds: %d tests, %d failures, want 5 and 2", s.Tests, s.Failures)
	}
}

func TestWriteHgrm(t *testing.T) {
	r := renderSample(t, 1)
	var b bytes.Buffer
	if err := WriteHgrm(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	sections := strings.Split(out, "\n# stampede run")
	if len(sections) != 3 {
		t.Fatalf("want sections for sign_in, refresh and api, got %d:\n%s", len(sections), out)
	}
	for i, name := range []string{OpSignIn, OpRefresh, OpAPI} {
		sec := sections[i]
		if !strings.Contains(strings.SplitN(sec, "\n", 2)[0], "operation "+name+":") {
			t.Errorf("section %d does not name %s: %q", i, name, strings.SplitN(sec, "\n", 2)[0])
		}
		if !strings.Contains(sec, "\n       Value     Percentile TotalCount 1/(1-Percentile)\n\n") {
			t.Errorf("%s: no HdrHistogram header", name)
		}
		for _, f := range []string{"#[Mean    = ", ", StdDeviation   = ", "#[Max     = ", ", Total count    = ", "#[Buckets = ", ", SubBuckets     = "} {
			if !strings.Contains(sec, f) {
				t.Errorf("%s: footer lacks %q", name, f)
			}
		}
	}

	// The refresh section alone: what a plotter reads.
	b.Reset()
	if err := WriteHgrm(&b, r, OpRefresh); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "# ") || lines[1] != "       Value     Percentile TotalCount 1/(1-Percentile)" || lines[2] != "" {
		t.Fatalf("head:\n%s", strings.Join(lines[:3], "\n"))
	}
	var last []string
	rows := 0
	for _, l := range lines[3:] {
		if strings.HasPrefix(l, "#") {
			break
		}
		last = strings.Fields(l)
		if len(last) != 4 {
			t.Fatalf("row %q: want 4 columns", l)
		}
		rows++
	}
	if rows < 10 {
		t.Errorf("only %d rows", rows)
	}
	if last[1] != "1.000000" || last[2] != "200" || last[3] != "inf" {
		t.Errorf("100th-percentile row %v: want percentile 1.000000, count 200, inf", last)
	}
	if v := last[0]; !strings.HasPrefix(v, "480.") {
		t.Errorf("100th-percentile value %s ms, want ≈ 480", v)
	}
	if !strings.Contains(b.String(), "#[Max     =      480.") || !strings.Contains(b.String(), "Total count    =          200]") {
		t.Errorf("footer:\n%s", strings.Join(lines[len(lines)-3:], "\n"))
	}

	if err := WriteHgrm(&b, r, OpGetToken); !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), "sign_in, refresh, api") {
		t.Errorf("op without a histogram: %v", err)
	}
	r.Ops[OpAPI].HDR = "bm90IGEgaGlzdG9ncmFt"
	if err := WriteHgrm(&b, r); !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), "ops.api.hdr") {
		t.Errorf("corrupt histogram: %v", err)
	}
	b.Reset()
	if err := WriteHgrm(&b, &Result{RunID: "x"}); err != nil || !strings.HasPrefix(b.String(), "#") {
		t.Errorf("no histograms: %v %q", err, b.String())
	}
}

func TestCompareWithItselfHasNoRegression(t *testing.T) {
	r := renderSample(t, 1)
	c := Compare(r, r, CompareOptions{MaxRegression: 0.1})
	if c.Regressed() {
		t.Fatalf("regressions comparing a result with itself: %+v", c.Failures())
	}
	names := map[string]bool{}
	for _, m := range c.Metrics {
		names[m.Name] = true
		if m.Change != 0 {
			t.Errorf("%s changed by %v", m.Name, m.Change)
		}
	}
	for _, want := range []string{"refresh.p50", "refresh.p95", "refresh.p99", "refresh.max", "refresh.error_rate", "api.p99", "sign_in.max",
		"herd.peak_to_mean", "herd.amplification", "requests.lost", "sessions.forced_signouts"} {
		if !names[want] {
			t.Errorf("no %s compared", want)
		}
	}
	if names["get_token.p99"] {
		t.Error("compared an operation without data")
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, c); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "REGRESSION") || !strings.Contains(out, "no regression") {
		t.Errorf("table:\n%s", out)
	}
}

func TestCompareDoctoredSlowerCopyRegresses(t *testing.T) {
	base, slow := renderSample(t, 1), renderSample(t, 1.5)
	c := Compare(base, slow, CompareOptions{MaxRegression: 0.1})
	byName := map[string]MetricChange{}
	for _, m := range c.Metrics {
		byName[m.Name] = m
	}
	// The body of the distribution moved with 196 samples behind it: a
	// regression. The p99 sits among 4 outliers: fewer than MinTailSamples
	// lie beyond it, so it is shown, not gated; gated by a budget, +50%
	// there is not significant (its interval spans 0): noise.
	p50 := byName["refresh.p50"]
	if !p50.Failed || p50.Verdict != VerdictRegression || p50.Change < 0.45 || p50.Change > 0.55 || p50.Interval == nil || p50.Interval.Low <= 0 {
		t.Errorf("refresh.p50: %+v, want a ≈ +50%% regression", p50)
	}
	if p99 := byName["refresh.p99"]; p99.Failed || p99.Gated || p99.Verdict != VerdictInfo || p99.Change < 0.45 || p99.Interval == nil || p99.Interval.Low >= 0 {
		t.Errorf("refresh.p99: %+v, want +50%% shown, not gated, its interval spanning 0", p99)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), "refresh.p99") {
		t.Errorf("notes %q do not say refresh.p99 has too few samples to gate", c.Notes)
	}
	gate, err := ParseBudget("b.yaml", []byte("metrics:\n  refresh.p99: gate\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Compare(base, slow, CompareOptions{MaxRegression: 0.1, Budget: gate}).Metrics {
		if m.Name == "refresh.p99" && (m.Failed || !m.Gated || m.Verdict != VerdictNoise) {
			t.Errorf("refresh.p99 gated by a budget: %+v, want +50%% judged noise", m)
		}
	}
	if m := byName["refresh.error_rate"]; m.Failed || m.Change != 0 {
		t.Errorf("error rate: %+v", m)
	}
	if Compare(base, slow, CompareOptions{MaxRegression: 0.6}).Regressed() {
		t.Error("+50% latency regressed past a 60% limit")
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, c); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "REGRESSION") || !strings.Contains(out, "metric") || !strings.Contains(out, "refresh.p99") {
		t.Errorf("table:\n%s", out)
	}
	if line := lineWith(out, "refresh.p50 "); !strings.Contains(line, "+50") || !strings.HasSuffix(line, "REGRESSION") {
		t.Errorf("refresh.p50 line %q", line)
	}

	// Faster is an improvement, not a regression.
	if c := Compare(slow, base, CompareOptions{MaxRegression: 0.1}); c.Regressed() || !strings.Contains(comparisonText(t, c), "improvement") {
		t.Errorf("faster copy: %+v", c.Failures())
	}
}

func TestCompareCountsFromZero(t *testing.T) {
	base, cur := renderSample(t, 1), renderSample(t, 1)
	cur.Requests.Lost = 1
	c := Compare(base, cur, CompareOptions{MaxRegression: 10}) // even a 1000% limit
	r := c.Failures()
	if len(r) != 1 || r[0].Name != "requests.lost" || r[0].Base != 0 || r[0].New != 1 {
		t.Fatalf("regressions %+v, want requests.lost 0 → 1", r)
	}
	out := comparisonText(t, c)
	if !strings.Contains(lineWith(out, "requests.lost"), "+∞") {
		t.Errorf("table:\n%s", out)
	}
}

// comparisonText is WriteComparison's output.
func comparisonText(t *testing.T, c Comparison) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteComparison(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// lineWith returns the first line of s containing sub, without trailing spaces.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}
