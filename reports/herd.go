package reports

import (
	"math"
	"time"
)

// BurstWindow is the simulated time after an event over which its burst,
// API 401s and forced sign-outs are counted.
const BurstWindow = 10 * time.Second

// recoveryShare is the share of the clients that held a valid token before
// an event that must hold one again for the fleet to count as recovered.
const recoveryShare = 0.99

// Analyze derives the herd figures (docs/results.md#herd-metrics) and each event's burst and
// recovery from the result's timeline and counters. It reads only the
// result, so a report can recompute them from result.json.
func Analyze(r *Result) {
	tl := r.Timeline
	bucket := time.Duration(tl.BucketMs) * time.Millisecond
	if bucket <= 0 {
		return
	}
	perSecond := float64(time.Second) / float64(bucket)
	// Buckets of the run proper: the ramp and the drain after the end are left out.
	end := min(len(tl.RefreshAttempts), int(r.Profile.Duration.D()/bucket))
	rampEnd := min(int((r.Profile.Ramp.D()+bucket-1)/bucket), end)
	if rampEnd >= end {
		rampEnd = 0 // a run that is all ramp: use all of it
	}
	steady := tl.RefreshAttempts[rampEnd:end]

	h := &r.Herd
	h.PeakRPS = float64(peakWindow(tl.RefreshAttempts[:end], int(math.Round(perSecond)))) // any 1 s window
	if secs := float64(len(steady)) / perSecond; secs > 0 {
		h.MeanRPS = float64(sum(steady)) / secs
	}
	h.PeakToMean = ratio(h.PeakRPS, h.MeanRPS)
	h.MaxInflight = 0
	for _, v := range tl.RefreshInflight {
		h.MaxInflight = max(h.MaxInflight, v)
	}
	if op := r.Ops[OpRefresh]; op != nil {
		h.Amplification = ratio(float64(op.Count), float64(op.OK))
		h.RetriesShare = ratio(float64(h.Retries), float64(op.Count))
	}
	h.Dispersion = dispersion(steady)

	window := BurstWindow
	if r.Profile.TimeScale > 0 {
		window = time.Duration(float64(window) / r.Profile.TimeScale)
	}
	for i := range r.Events {
		e := &r.Events[i]
		from := time.Duration(e.StartS * float64(time.Second))
		if e.BurstFrom == BurstFromEnd {
			from = time.Duration(e.EndS * float64(time.Second))
		}
		lo := int(from / bucket)
		hi := max(int((from+window+bucket-1)/bucket), lo+1)
		hi = min(hi, end)
		e.Burst10s = sum(clip(tl.RefreshAttempts, lo, hi))
		e.API401 = sum(clip(tl.API401, lo, hi))
		e.ForcedSignouts = sum(clip(tl.ForcedSignouts, lo, hi))
		// The last bucket of the run may already see clients stopping.
		e.RecoveryS = recovery(tl.ValidToken[:max(min(end-1, len(tl.ValidToken)), 0)], e.StartS, from, bucket)
	}
	analyzeStages(r)
	AnalyzeTLS(r)
}

// recovery is the time from `from` until the valid-token gauge, sampled at
// the end of each bucket, is back to recoveryShare of its value just before
// start: 0 if it never fell below, nil if it had not come back by the end.
func recovery(valid []int64, startS float64, from, bucket time.Duration) *float64 {
	start := time.Duration(startS * float64(time.Second))
	b0 := int(start/bucket) - 1 // the last bucket that closed before the event
	if b0 < 0 || b0 >= len(valid) {
		zero := 0.0
		return &zero
	}
	need := recoveryShare * float64(valid[b0])
	fell := false
	for b := b0 + 1; b < len(valid); b++ {
		if float64(valid[b]) < need {
			fell = true
			continue
		}
		if fell {
			at := time.Duration(b+1) * bucket // the sample is taken at the bucket's end
			s := max(at-from, 0).Seconds()
			return &s
		}
	}
	if !fell {
		zero := 0.0
		return &zero
	}
	return nil
}

// peakWindow is the largest sum of n consecutive values (of all, if fewer).
func peakWindow(v []int64, n int) int64 {
	if n <= 0 || len(v) <= n {
		return sum(v)
	}
	s := sum(v[:n])
	best := s
	for i := n; i < len(v); i++ {
		s += v[i] - v[i-n]
		best = max(best, s)
	}
	return best
}

// dispersion is the variance-to-mean ratio (population variance) of v.
func dispersion(v []int64) float64 {
	if len(v) == 0 {
		return 0
	}
	mean := float64(sum(v)) / float64(len(v))
	if mean == 0 {
		return 0
	}
	var ss float64
	for _, x := range v {
		d := float64(x) - mean
		ss += d * d
	}
	return ss / float64(len(v)) / mean
}

func sum(v []int64) int64 {
	var n int64
	for _, x := range v {
		n += x
	}
	return n
}

func clip(v []int64, lo, hi int) []int64 {
	lo, hi = max(lo, 0), min(hi, len(v))
	if lo >= hi {
		return nil
	}
	return v[lo:hi]
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
