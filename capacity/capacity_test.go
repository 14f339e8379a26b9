package capacity

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

func TestParseStep(t *testing.T) {
	for in, want := range map[string]Step{"2": {Factor: 2}, "x1.5": {Factor: 1.5}, "+500": {Add: 500}} {
		got, err := ParseStep(in)
		if err != nil || got != want {
			t.Errorf("ParseStep(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"1", "x0.5", "+0", "+x", "two", ""} {
		if _, err := ParseStep(bad); err == nil {
			t.Errorf("ParseStep(%q) gave no error", bad)
		}
	}
}

func TestSizesEndAtMax(t *testing.T) {
	if got := Sizes(200, 1000, Step{Factor: 2}); !slices.Equal(got, []int{200, 400, 800, 1000}) {
		t.Errorf("x2: %v", got)
	}
	if got := Sizes(100, 300, Step{Add: 100}); !slices.Equal(got, []int{100, 200, 300}) {
		t.Errorf("+100: %v", got)
	}
	if got := Sizes(3, 5, Step{Factor: 1.1}); !slices.Equal(got, []int{3, 4, 5}) {
		t.Errorf("a factor always grows the fleet: %v", got)
	}
}

func TestPlanHoldsEachStageTwoTokenLifetimes(t *testing.T) {
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	p.TimeScale = 10 // 60 s tokens: 6 s of wall-clock time
	sp, err := Plan(Options{Profile: p, Start: 100, Max: 400, Step: Step{Factor: 2}, Ramp: time.Second, Hold: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Stages) != 3 || sp.Stages[2].Clients != 400 || sp.Stages[0].Hold.D() != 12*time.Second {
		t.Errorf("stages %+v", sp.Stages)
	}
	if sp.Clients != 400 || sp.Duration.D() != 39*time.Second {
		t.Errorf("clients %d duration %s", sp.Clients, sp.Duration)
	}
	p.Thresholds = nil
	if _, err := Plan(Options{Profile: p, Start: 100, Max: 400, Step: Step{Factor: 2}}); err == nil {
		t.Error("a search without thresholds planned")
	}
}

// stage is a stage of fleet n with refresh p99 in ms, statuses and lag.
func stage(i, n int, p99 float64, ok, shed int64, lagMs float64) reports.Stage {
	return reports.Stage{Index: i, Clients: n, StartS: float64(10 * i), EndS: float64(10 * (i + 1)),
		Ops: map[string]*reports.Op{"refresh": {Count: ok + shed, OK: ok, Errors: map[string]int64{"http_5xx": shed},
			LatencyMs: reports.Summary{P99: p99}}},
		ByStatus: map[string]int64{"200": ok, "503": shed},
		Herd:     reports.Herd{Amplification: float64(ok+shed) / float64(ok), MaxInflight: int64(n / 10)},
		LagMs:    reports.LagSummary{P99: lagMs}}
}

func TestKneeNamesTheThresholdAndWhatMoved(t *testing.T) {
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	res := &reports.Result{Stages: []reports.Stage{
		stage(0, 200, 20, 1000, 0, 2), stage(1, 400, 90, 2000, 0, 3),
		stage(2, 800, 900, 2000, 450, 4), stage(3, 1600, 2000, 2000, 2000, 5)}}
	rep, err := Knee(res, p, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LastPass != 400 || rep.FirstFail != 800 || rep.GeneratorLimited {
		t.Fatalf("knee %d → %d (limited %v), want 400 → 800", rep.LastPass, rep.FirstFail, rep.GeneratorLimited)
	}
	if rep.Broke == nil || rep.Broke.Expr != "refresh.p99 < 250ms" || rep.Broke.Value != 900 || rep.Broke.Limit != 250 {
		t.Errorf("broke %+v", rep.Broke)
	}
	if rep.Moved[0].Name != "shed_503_share" && rep.Moved[0].Name != "max_inflight" {
		t.Errorf("moved most: %+v", rep.Moved)
	}
	for _, want := range []string{"holds 400 clients at refresh.p99 < 250ms", "tips at 800", "18 % 503 shed", "amplification 1.23"} {
		if !strings.Contains(rep.Summary, want) {
			t.Errorf("summary %q lacks %q", rep.Summary, want)
		}
	}
	if !rep.Holds(400) || rep.Holds(401) {
		t.Error("Holds disagrees with the knee at 400")
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "| 800 | fail |") {
		t.Errorf("markdown: %v\n%s", err, md.String())
	}
}

func TestKneeNeverFromAStageTheGeneratorCouldNotDrive(t *testing.T) {
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	// At 800 clients stampede ran 300 ms late: the failure is its own.
	res := &reports.Result{Stages: []reports.Stage{
		stage(0, 200, 20, 1000, 0, 2), stage(1, 400, 90, 2000, 0, 3), stage(2, 800, 900, 2000, 0, 300)}}
	rep, err := Knee(res, p, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstFail != 0 || rep.LastPass != 400 || !rep.GeneratorLimited || rep.Stages[2].Verdict != StageBehind {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Summary, "the measurement, not the target, was the limit") || !strings.Contains(rep.Summary, "--shard") {
		t.Errorf("summary %q", rep.Summary)
	}
}

func TestKneeNeverFromAStageThatSaturatedTheCPU(t *testing.T) {
	p := profiles.Default()
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}}
	res := &reports.Result{Stages: []reports.Stage{
		stage(0, 200, 20, 1000, 0, 2), stage(1, 400, 900, 2000, 0, 3)}}
	u := NewUsage()
	u.set(0, 300*time.Millisecond, time.Second)
	u.set(1, 1990*time.Millisecond, time.Second)
	u.shares[1] = 0.99 // GOMAXPROCS differs between machines: the share itself
	rep, err := Knee(res, p, 50*time.Millisecond, u)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FirstFail != 0 || !rep.GeneratorLimited || rep.Stages[1].Verdict != StageBehind || !strings.Contains(rep.Stages[1].Behind, "99 %") {
		t.Fatalf("report %+v", rep)
	}
}
