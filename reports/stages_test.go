package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// stagedResult is a run of two 2 s stages whose refreshes come 10 a
// bucket in the first and 30 a bucket in the second, the second failing
// refresh.p99 < 250ms with 503s shed.
func stagedResult() *Result {
	p := profiles.Default()
	p.Stages = []profiles.Stage{
		{Clients: 10, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(time.Second)},
		{Clients: 30, Ramp: profiles.Duration(time.Second), Hold: profiles.Duration(time.Second)},
	}
	p.FitStages()
	r := &Result{Profile: p, Stages: StagesOf(p), Timeline: Timeline{BucketMs: 100}}
	for b := range 40 {
		n := int64(10)
		if b >= 20 {
			n = 30
		}
		r.Timeline.RefreshAttempts = append(r.Timeline.RefreshAttempts, n)
		r.Timeline.RefreshInflight = append(r.Timeline.RefreshInflight, n/10)
	}
	r.Stages[0].Ops = map[string]*Op{OpRefresh: {Count: 200, OK: 200, Errors: map[string]int64{}, LatencyMs: Summary{P99: 40}}}
	r.Stages[0].ByStatus = map[string]int64{"200": 200}
	r.Stages[1].Ops = map[string]*Op{OpRefresh: {Count: 600, OK: 480, Errors: map[string]int64{"http_5xx": 120}, LatencyMs: Summary{P99: 400}}}
	r.Stages[1].ByStatus = map[string]int64{"200": 480, "503": 120}
	r.Stages[1].Herd.Retries = 120
	return r
}

func TestStagesHerdAndThresholdsArePerStage(t *testing.T) {
	r := stagedResult()
	if r.Stages[1].StartS != 2 || r.Stages[1].EndS != 4 || r.Stages[1].RampS != 1 {
		t.Fatalf("layout %+v", r.Stages[1])
	}
	Analyze(r)
	h0, h1 := r.Stages[0].Herd, r.Stages[1].Herd
	if h0.MeanRPS != 100 || h1.MeanRPS != 300 || h1.MaxInflight != 3 || h0.MaxInflight != 1 {
		t.Errorf("herd: first %+v, second %+v", h0, h1)
	}
	if h1.Amplification != 1.25 || h1.RetriesShare != 0.2 {
		t.Errorf("second stage amplification %v, retries share %v", h1.Amplification, h1.RetriesShare)
	}
	if err := EvaluateStages(r, []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}, {Expr: "herd.amplification < 1.1"}}); err != nil {
		t.Fatal(err)
	}
	if r.Stages[0].Verdict != VerdictPass || r.Stages[1].Verdict != VerdictFail || r.Stages[1].Thresholds[0].Value != 400 || r.Stages[1].Thresholds[1].OK {
		t.Errorf("verdicts %q %q, second %+v", r.Stages[0].Verdict, r.Stages[1].Verdict, r.Stages[1].Thresholds)
	}
	if n, share := r.Stages[1].Shed(); n != 120 || share != 0.2 {
		t.Errorf("shed %d (%v)", n, share)
	}
	var text, md bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stages (requests counted", "120 (20.0%)", "fail: refresh.p99 < 250ms, herd.amplification < 1.1", "400 ms"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(md.String(), "| 1 | 30 | 2.0–4.0 | 0 | 0 | 600 | 400 ms | 20.00% | 120 (20.0%) | 1.250 | 120 |") {
		t.Errorf("markdown:\n%s", md.String())
	}
}
