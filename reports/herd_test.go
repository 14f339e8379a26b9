package reports

import (
	"math"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// herdResult is a 2 s run (20 buckets of 100 ms, then 2 of drain) with a
// 0.5 s ramp at time scale 10, worked out by hand below.
func herdResult() *Result {
	p := profiles.Default()
	p.Duration = profiles.Duration(2 * time.Second)
	p.Ramp = profiles.Duration(500 * time.Millisecond)
	p.TimeScale = 10
	attempts := []int64{
		1, 1, 1, 1, 1, // ramp
		2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 12, 2, 2, 2, 2, // steady: 40 attempts in 1.5 s
		5, 5, // drain, left out
	}
	valid := make([]int64, len(attempts))
	for i := range valid {
		valid[i] = 100
	}
	valid[10], valid[11], valid[12], valid[13] = 90, 95, 98, 99
	inflight := make([]int64, len(attempts))
	inflight[15] = 7
	api401 := make([]int64, len(attempts))
	api401[10], api401[11] = 10, 5
	forced := make([]int64, len(attempts))
	forced[16] = 3
	return &Result{
		Profile: p,
		Ops:     map[string]*Op{OpRefresh: {Count: 50, OK: 40}},
		Herd:    Herd{Retries: 5, DuplicateRefreshes: 2},
		Events: []Event{
			{Index: 0, Type: "outage", StartS: 0.6, EndS: 1.2, BurstFrom: BurstFromEnd},
			{Index: 1, Type: "key_rotation", StartS: 1.0, EndS: 1.0},
			{Index: 2, Type: "revocation_wave", StartS: 1.6, EndS: 1.6},
		},
		Timeline: Timeline{BucketMs: 100, RefreshAttempts: attempts, RefreshInflight: inflight,
			ValidToken: valid, API401: api401, ForcedSignouts: forced},
	}
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestAnalyzeHerdFiguresByHand(t *testing.T) {
	r := herdResult()
	Analyze(r)
	h := r.Herd
	// The busiest 1 s holds the spike of 12 and nine buckets of 2: 30.
	near(t, "peak_rps", h.PeakRPS, 30)
	// After the ramp: 40 attempts in 15 buckets = 1.5 s.
	near(t, "mean_rps", h.MeanRPS, 40/1.5)
	near(t, "peak_to_mean", h.PeakToMean, 30/(40/1.5))
	near(t, "max_inflight", float64(h.MaxInflight), 7)
	near(t, "amplification", h.Amplification, 50.0/40)
	near(t, "retries_share", h.RetriesShare, 5.0/50)
	if h.Retries != 5 || h.DuplicateRefreshes != 2 {
		t.Errorf("counters changed: %+v", h)
	}
	// Mean 40/15; 14 values of 2 and one of 12: variance (14·(2−m)² + (12−m)²)/15.
	m := 40.0 / 15
	variance := (14*(2-m)*(2-m) + (12-m)*(12-m)) / 15
	near(t, "dispersion", h.Dispersion, variance/m) // = 2.333…
	near(t, "dispersion (by hand)", h.Dispersion, 7.0/3)
}

func TestAnalyzeEventsByHand(t *testing.T) {
	r := herdResult()
	Analyze(r)
	want := []struct {
		burst, api401, forced int64
		recovery              *float64
	}{
		// Outage: counted from its end (1.2 s) for 1 s (10 s simulated at ×10),
		// up to the run's end: buckets 12..19 = 2+2+2+12+2+2+2+2.
		{26, 0, 3, ptr(0.2)}, // valid back to 99 at the end of bucket 13 (1.4 s), 0.2 s after the restore
		// Key rotation at 1.0 s: buckets 10..19.
		{30, 15, 3, ptr(0.4)}, // 1.4 s − 1.0 s
		// Revocation at 1.6 s: buckets 16..19; valid never dipped after it.
		{8, 0, 3, ptr(0)},
	}
	for i, w := range want {
		e := r.Events[i]
		if e.Burst10s != w.burst || e.API401 != w.api401 || e.ForcedSignouts != w.forced {
			t.Errorf("event %d: burst %d api401 %d forced %d, want %d %d %d", i, e.Burst10s, e.API401, e.ForcedSignouts, w.burst, w.api401, w.forced)
		}
		if e.RecoveryS == nil || math.Abs(*e.RecoveryS-*w.recovery) > 1e-9 {
			t.Errorf("event %d: recovery_s = %v, want %v", i, deref(e.RecoveryS), *w.recovery)
		}
	}
}

func TestRecoveryNeverComesBack(t *testing.T) {
	r := herdResult()
	for b := 10; b < len(r.Timeline.ValidToken); b++ {
		r.Timeline.ValidToken[b] = 50
	}
	Analyze(r)
	if got := r.Events[1].RecoveryS; got != nil {
		t.Errorf("recovery_s = %v for a fleet that never recovered, want null", *got)
	}
}

func TestAnalyzeEmptyTimeline(t *testing.T) {
	r := &Result{Profile: profiles.Default(), Ops: map[string]*Op{OpRefresh: {}}, Timeline: Timeline{BucketMs: 100}}
	Analyze(r) // must not panic or divide by zero
	if r.Herd.PeakRPS != 0 || r.Herd.MeanRPS != 0 || r.Herd.Dispersion != 0 || r.Herd.Amplification != 0 {
		t.Errorf("empty run herd = %+v", r.Herd)
	}
}

func ptr(f float64) *float64 { return &f }

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
