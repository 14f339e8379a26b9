package reports

import (
	"math"
	"time"
)

// The server-side recovery of a fault (docs/results.md#recovery-from-the-server-side):
// the fleet has recovered at the first whole second after the fault's end
// from which, over RecoveryWindow, its refresh and API rates are within
// RecoveryBand of their mean over the RecoveryBaseline before the fault
// (or within RecoveryMinBand per second, whichever is wider) and its error
// share is at most the baseline's plus RecoveryErrorSlack.
const (
	RecoveryBaseline   = 30 * time.Second
	RecoveryWindow     = 5 * time.Second
	RecoveryBand       = 0.20
	RecoveryMinBand    = 1.0 // requests per second
	RecoveryErrorSlack = 0.01
)

// Reasons a fault's recovery_s is null (Event.RecoveryReason).
const (
	// RecoveryRunEnded: the run ended before the fleet was back to its
	// baseline for a whole RecoveryWindow.
	RecoveryRunEnded = "run_ended"
	// RecoveryFaultActive: the fault was still on when the run ended.
	RecoveryFaultActive = "fault_active"
	// RecoveryNoBaseline: the fault began less than a second after the
	// start, with no traffic before it to compare with.
	RecoveryNoBaseline = "no_baseline"
)

// rates are a stretch of the timeline's traffic: refresh attempts and API
// calls per second, and the share of them that failed (refresh errors
// and API 401s).
type rates struct{ refresh, api, errShare float64 }

func ratesOf(tl Timeline, lo, hi int, bucket time.Duration) rates {
	secs := float64(hi-lo) * bucket.Seconds()
	if secs <= 0 {
		return rates{}
	}
	ref, api := sum(clip(tl.RefreshAttempts, lo, hi)), sum(clip(tl.APICalls, lo, hi))
	errs := sum(clip(tl.RefreshErrors, lo, hi)) + sum(clip(tl.API401, lo, hi))
	return rates{refresh: float64(ref) / secs, api: float64(api) / secs, errShare: ratio(float64(errs), float64(ref+api))}
}

// inBand reports whether v is within the recovery band of base.
func inBand(v, base float64) bool {
	return math.Abs(v-base) <= max(RecoveryBand*base, RecoveryMinBand)
}

// FaultRecovery is how many seconds after a fault's end (endS, seconds
// from the timeline's start; its start for an instant fault) the fleet's
// traffic in tl was back to what it was before the fault began (startS),
// as the constants above define it; nil with a reason (RecoveryRunEnded,
// RecoveryNoBaseline) when it cannot say.
func FaultRecovery(tl Timeline, startS, endS float64) (*float64, string) {
	bucket := time.Duration(tl.BucketMs) * time.Millisecond
	if bucket <= 0 {
		return nil, RecoveryRunEnded
	}
	perSecond := int(time.Second / bucket)
	n := len(tl.RefreshAttempts)
	startB := min(int(startS/bucket.Seconds()+1e-9), n)
	if startB < perSecond {
		return nil, RecoveryNoBaseline
	}
	base := ratesOf(tl, max(0, startB-int(RecoveryBaseline/bucket)), startB, bucket)
	w := int(RecoveryWindow / bucket)
	from := int(math.Ceil(endS/bucket.Seconds() - 1e-9))
	for j := 0; from+j*perSecond+w <= n; j++ {
		lo := from + j*perSecond
		r := ratesOf(tl, lo, lo+w, bucket)
		if inBand(r.refresh, base.refresh) && inBand(r.api, base.api) && r.errShare <= base.errShare+RecoveryErrorSlack {
			s := float64(j)
			return &s, ""
		}
	}
	return nil, RecoveryRunEnded
}
