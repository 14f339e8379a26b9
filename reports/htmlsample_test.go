package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// htmlSampleResult is a hand-made result with real histograms, a 60 s
// timeline in 100 ms buckets, an outage and a revocation wave, and two
// thresholds, one of them failing.
func htmlSampleResult(t *testing.T) *Result {
	t.Helper()
	hist := func(n int, base time.Duration, spread, tailEvery int, tail time.Duration) (string, Summary) {
		h := NewHistogram()
		for i := range n {
			d := base + time.Duration((i*7919)%spread)*time.Millisecond/10
			if tailEvery > 0 && i%tailEvery == 0 {
				d += tail * time.Duration(1+i%7) / 7
			}
			if !RecordLatency(h, d) {
				t.Fatalf("latency %s out of range", d)
			}
		}
		enc, err := EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		return enc, Summarize(h)
	}
	signIn, signInSum := hist(2000, 30*time.Millisecond, 400, 50, 200*time.Millisecond)
	refresh, refreshSum := hist(20000, 8*time.Millisecond, 300, 100, 900*time.Millisecond)
	api, apiSum := hist(60000, 2*time.Millisecond, 80, 1000, 50*time.Millisecond)

	const buckets = 600 // 60 s of 100 ms
	tl := Timeline{BucketMs: 100}
	series := []*[]int64{&tl.RefreshAttempts, &tl.RefreshOK, &tl.RefreshErrors, &tl.RefreshInflight,
		&tl.APICalls, &tl.API401, &tl.ForcedSignouts, &tl.SignedIn, &tl.SignedOut, &tl.Background,
		&tl.Offline, &tl.ValidToken}
	for _, s := range series {
		*s = make([]int64, buckets)
	}
	for b := range buckets {
		sec := float64(b) / 10
		attempts := int64(30 + (b*37)%13)
		offline := int64(0)
		switch {
		case sec >= 20 && sec < 30: // outage: 40% of the fleet offline, nothing refreshes for them
			offline = 800
			attempts = attempts * 6 / 10
		case sec >= 30 && sec < 33: // the reconnection herd
			attempts = 380 - int64(b-300)*10
		case sec >= 45 && sec < 47: // revocation wave: 401 storm, refreshes fail
			attempts = 160
		}
		errs := int64(0)
		if sec >= 45 && sec < 47 {
			errs = 120
			tl.ForcedSignouts[b] = 25
			tl.API401[b] = 300
		} else {
			tl.API401[b] = int64(b % 3)
		}
		tl.RefreshAttempts[b] = attempts
		tl.RefreshErrors[b] = errs
		tl.RefreshOK[b] = attempts - errs
		tl.RefreshInflight[b] = attempts / 3
		tl.APICalls[b] = 100 + int64(b%17)
		tl.Offline[b] = offline
		tl.Background[b] = 300 + int64(50*math.Sin(sec/5))
		signedOut := int64(0)
		if sec >= 45 {
			signedOut = min(int64(b-449)*25, 500)
		}
		tl.SignedOut[b] = signedOut
		tl.SignedIn[b] = 2000 - signedOut
		valid := 2000 - signedOut - offline
		if sec >= 30 && sec < 34 {
			valid = 2000 - int64(40-(b-300))*20
		}
		tl.ValidToken[b] = valid
	}
	lat := LatencySeries{WindowMs: 1000}
	for w := range 60 {
		p50, p99, mx := 9.0+float64(w%5), 30.0+float64(w%7)*4, 60.0+float64(w%11)*9
		switch {
		case w >= 20 && w < 22: // two windows with no refresh answered: gaps
			p50, p99, mx = 0, 0, 0
		case w >= 30 && w < 33:
			p50, p99, mx = 40, 650, 1900
		}
		lat.P50, lat.P99, lat.Max = append(lat.P50, p50), append(lat.P99, p99), append(lat.Max, mx)
	}
	tl.RefreshLatencyMs = lat

	rec := 4.2
	p := profiles.Default()
	p.Name = "herd-demo"
	p.Description = `Outage & revocation <b>herd</b> "demo"`
	p.Clients = 2000
	p.Duration = profiles.Duration(60 * time.Second)
	p.Ramp = profiles.Duration(5 * time.Second)
	p.TimeScale = 1
	p.Seed = 42
	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	return &Result{
		Schema: Schema, RunID: "20261128-093000-html01", ToolVersion: "v0.4.0-test",
		Profile: p, Target: Target{Kind: "embedded", URL: "http://127.0.0.1:8787"},
		StartedAt: start, EndedAt: start.Add(60 * time.Second), Partial: true, Shard: Shard{Count: 1},
		Ops: map[string]*Op{
			OpSignIn:  {Count: 2000, OK: 2000, Errors: map[string]int64{}, LatencyMs: signInSum, HDR: signIn},
			OpRefresh: {Count: 20240, OK: 20000, Errors: map[string]int64{"http_401": 200, "timeout": 40}, LatencyMs: refreshSum, ServiceMs: &refreshSum, HDR: refresh},
			OpAPI:     {Count: 60600, OK: 60000, Errors: map[string]int64{"http_401": 600}, LatencyMs: apiSum, HDR: api},
		},
		Sessions: Sessions{ByStatus: map[string]int64{"active": 1500, "revoked": 500}, ForcedSignouts: 500, ReSignIns: 120},
		Requests: Requests{Issued: 60600, Settled: 60590, Lost: 10, OK: 60000, UserVisibleErrors: 590, RetryLoops: 3, StaleTokenRetries: 41},
		Engine:   Engine{LagMs: LagSummary{P50: 0.04, P99: 0.9, Max: 7.5}, Clients: 2000, Goroutines: 2031, MaxRSSBytes: 180 << 20, TLS: htmlSampleTLS(t)},
		Herd: Herd{PeakRPS: 2870, MeanRPS: 337.4, PeakToMean: 8.506, MaxInflight: 126, Amplification: 1.012,
			DuplicateRefreshes: 17, Retries: 240, RetriesShare: 0.0119, Dispersion: 54.3},
		Timeline: tl,
		Events: []Event{
			{Index: 0, Type: "outage", At: "20s", StartS: 20, EndS: 30, BurstFrom: BurstFromEnd, Clients: 800, Burst10s: 4410, API401: 19, ForcedSignouts: 0, RecoveryS: &rec},
			{Index: 1, Type: "revocation_wave", At: "75%", StartS: 45, EndS: 45, Sessions: 500, Burst10s: 3890, API401: 6012, ForcedSignouts: 500},
		},
		Thresholds: []ThresholdResult{
			{Expr: "refresh.p99 < 250ms", Value: refreshSum.P99, OK: refreshSum.P99 < 250},
			{Expr: "herd.peak_to_mean < 4", Value: 8.506, OK: false, AbortOnFail: true},
		},
		Verdict: VerdictFail,
	}
}

// renderHTML writes r with WriteHTML to dir/report.html.
func renderHTML(t *testing.T, r *Result, dir string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}

var (
	reHTMLComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	reBlockBody    = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>(.*?)</(?:script|style)>`)
	reBlockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	// reExternalAttr finds an attribute that makes the browser fetch from the network.
	reExternalAttr = regexp.MustCompile(`(?i)\b(?:src|href|srcset|action|poster|data|formaction|background)\s*=\s*["']?\s*(?:https?:)?//`)
	reDataBlock    = regexp.MustCompile(`(?s)<script type="application/json" id="stampede-data">(.*?)</script>`)
)

// htmlChartsData is the part of the data block the tests read.
type htmlChartsData struct {
	Events []htmlEventMark `json:"events"`
	Charts map[string]struct {
		StepS  float64    `json:"step_s"`
		X      []*float64 `json:"x"`
		Note   string     `json:"note"`
		Series []struct {
			Label  string     `json:"label"`
			Values []*float64 `json:"values"`
		} `json:"series"`
	} `json:"charts"`
}

// checkSelfContained fails t if page refers to anything outside itself.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	page = reHTMLComment.ReplaceAllString(page, "")
	if m := reExternalAttr.FindString(page); m != "" {
		t.Errorf("page refers to the network: %q", m)
	}
	for _, tag := range []string{"<link", "<img", "<iframe", "<object", "<embed", "@font-face", "@import"} {
		if strings.Contains(strings.ToLower(page), tag) {
			t.Errorf("page has %s", tag)
		}
	}
	if regexp.MustCompile(`(?i)<script\b[^>]*\bsrc\s*=`).MatchString(page) {
		t.Error("page loads a script from a file")
	}
	for _, m := range reBlockBody.FindAllStringSubmatch(page, -1) {
		body := reBlockComment.ReplaceAllString(m[2], "")
		for _, s := range []string{"http://", "https://", "url(//", "import("} {
			if i := strings.Index(body, s); i >= 0 {
				t.Errorf("<%s> block has %q outside comments: …%s…", m[1], s, body[max(0, i-40):min(len(body), i+60)])
			}
		}
	}
}

// parseDataBlock returns the page's chart data.
func parseDataBlock(t *testing.T, page string) htmlChartsData {
	t.Helper()
	m := reDataBlock.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no stampede-data block")
	}
	var d htmlChartsData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("data block does not parse: %v", err)
	}
	return d
}
