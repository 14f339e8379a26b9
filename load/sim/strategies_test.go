package sim

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// outageThenBrownout is 2,000 clients whose network all comes back at the
// same instant after a minute's outage (refresh_on_reconnect: a herd),
// into a token endpoint that answers 70 % of refreshes 503 for 20 s, with
// the retry policy given.
func outageThenBrownout(t *testing.T, jitter string, base time.Duration) profiles.Profile {
	t.Helper()
	p := profiles.Default()
	p.Clients = 2000
	p.TimeScale = 1
	p.Duration = profiles.Duration(4 * time.Minute)
	p.Ramp = profiles.Duration(30 * time.Second)
	p.App.APICallsPerMinute = 0
	p.SDK.RefreshOnReconnect = true
	p.SDK.Retry = profiles.Retry{Base: profiles.Duration(base), Cap: profiles.Duration(16 * time.Second), Multiplier: 2,
		Jitter: jitter, MaxRetries: 6}
	if base < time.Millisecond*10 { // no backoff: every retry at once
		p.SDK.Retry.Cap = profiles.Duration(base)
	}
	p.Events = []profiles.Event{
		{Type: profiles.EventOutage, At: profiles.At{Offset: profiles.Duration(60 * time.Second)}, Duration: profiles.Duration(60 * time.Second),
			Fraction: 1, Mode: profiles.OutageFailFast},
		{Type: profiles.EventBrownout, At: profiles.At{Offset: profiles.Duration(120 * time.Second)}, Duration: profiles.Duration(20 * time.Second),
			Rate503: 0.7},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRetryStrategiesAfterAnOutage reproduces the known ordering of retry
// strategies after an outage: without backoff the clients make the most
// calls and the tallest herd; exponential backoff without jitter still
// herds at every step; full and equal jitter spread the retries (the
// lowest peak/mean), decorrelated jitter close to them.
func TestRetryStrategiesAfterAnOutage(t *testing.T) {
	type outcome struct {
		calls      int64
		peakRPS    float64
		peakToMean float64 // of the retries: 100 ms buckets from 0.5 s to 20 s after the restore
		timeline   []int64
	}
	restore := int((120 * time.Second) / (100 * time.Millisecond))
	run := func(jitter string, base time.Duration) outcome {
		res := simulate(t, outageThenBrownout(t, jitter, base))
		tl := res.Timeline.RefreshAttempts
		var peak, sum int64
		for _, n := range tl[restore+5 : restore+200] {
			peak, sum = max(peak, n), sum+n
		}
		ratio := 0.0
		if sum > 0 {
			ratio = float64(peak) / (float64(sum) / 195)
		}
		return outcome{res.Ops[reports.OpRefresh].Count, res.Herd.PeakRPS, ratio, tl}
	}
	none := run(profiles.JitterNone, time.Millisecond)
	expo := run(profiles.JitterNone, time.Second)
	full := run(profiles.JitterFull, time.Second)
	equal := run(profiles.JitterEqual, time.Second)
	decor := run(profiles.JitterDecorrelated, time.Second)
	for _, o := range []struct {
		name string
		outcome
	}{{"no backoff", none}, {"exponential", expo}, {"full", full}, {"equal", equal}, {"decorrelated", decor}} {
		t.Logf("%-12s %6d refreshes, herd peak %5.0f/s, retries' peak/mean %5.1f", o.name, o.calls, o.peakRPS, o.peakToMean)
	}

	for name, o := range map[string]outcome{"exponential": expo, "full": full, "equal": equal, "decorrelated": decor} {
		if none.calls <= o.calls || none.peakRPS <= o.peakRPS {
			t.Errorf("no backoff: %d refreshes, peak %.0f/s; %s: %d, %.0f/s: want no backoff the most calls and the tallest herd",
				none.calls, none.peakRPS, name, o.calls, o.peakRPS)
		}
	}
	for name, o := range map[string]outcome{"full": full, "equal": equal} {
		if o.peakToMean >= expo.peakToMean {
			t.Errorf("%s jitter peak/mean %.1f, exponential without jitter %.1f: want jitter to spread the retries", name, o.peakToMean, expo.peakToMean)
		}
	}
	if lo := min(full.peakToMean, equal.peakToMean); decor.peakToMean >= expo.peakToMean || decor.peakToMean > 1.5*lo {
		t.Errorf("decorrelated jitter peak/mean %.1f: want below exponential's %.1f and within 1.5× of full and equal's %.1f",
			decor.peakToMean, expo.peakToMean, lo)
	}

	// Exponential backoff without jitter: the herd comes back at every
	// step, base·2^n after the restore (1 s, 3 s, 7 s): each such 100 ms
	// bucket holds far more retries than a full-jitter run's.
	for _, after := range []time.Duration{time.Second, 3 * time.Second, 7 * time.Second} {
		b := restore + int(after/(100*time.Millisecond))
		peak := func(tl []int64) int64 { return max(tl[b], tl[b+1]) }
		if e, f := peak(expo.timeline), peak(full.timeline); e < 5*max(f, 1) {
			t.Errorf("%s after the restore: exponential without jitter %d refreshes in the step's bucket, full jitter %d: want a herd at every step",
				after, e, f)
		}
	}
}
