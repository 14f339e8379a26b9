package load

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// fleetProfile is a small fleet for 10 simulated minutes (60 s of fake time).
func fleetProfile(events ...profiles.Event) profiles.Profile {
	p := profiles.Default()
	p.Clients = 100
	p.Events = events
	return p
}

func TestKeyRotationWithoutOverlapStorms401s(t *testing.T) {
	res, _ := runFake(t, fleetProfile(profiles.Event{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.5}}), nil)
	checkBooks(t, &res)
	if len(res.Events) != 1 || res.Events[0].Error != "" {
		t.Fatalf("events = %+v", res.Events)
	}
	e := res.Events[0]
	if got := res.Ops[reports.OpAPI].Errors["http_401"]; got == 0 || e.API401 == 0 {
		t.Fatalf("no API 401s after a key rotation without overlap (ops %d, event %d)", got, e.API401)
	}
	t.Logf("key rotation: %+v; api 401s %d", e, res.Ops[reports.OpAPI].Errors["http_401"])
	// The burst after the rotation exceeds the same window one event earlier.
	lo, hi := bucketRange(time.Duration(e.StartS*float64(time.Second))-time.Second, time.Second, res.Timeline.BucketMs)
	before := sumRange(res.Timeline.RefreshAttempts, lo, hi)
	if e.Burst10s <= before {
		t.Errorf("burst_10s = %d, not above the %d refreshes of the second before", e.Burst10s, before)
	}

	res, _ = runFake(t, fleetProfile(profiles.Event{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.5}, Overlap: true}), nil)
	if got := res.Ops[reports.OpAPI].Errors["http_401"]; got != 0 {
		t.Errorf("%d API 401s after a key rotation with overlap, want 0", got)
	}
}

func TestRevocationWaveSignsOutAboutTheFraction(t *testing.T) {
	res, st := runFake(t, fleetProfile(profiles.Event{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.5}, Fraction: 0.25}), nil)
	checkBooks(t, &res)
	e := res.Events[0]
	if e.Sessions != 25 {
		t.Errorf("revoked %d sessions of 100 at 0.25", e.Sessions)
	}
	if res.Sessions.ForcedSignouts != e.Sessions || res.Sessions.ReSignIns != e.Sessions {
		t.Errorf("forced sign-outs %d, re-sign-ins %d, want %d each", res.Sessions.ForcedSignouts, res.Sessions.ReSignIns, e.Sessions)
	}
	if st.Sessions["revoked"] != e.Sessions {
		t.Errorf("backend holds %d revoked sessions", st.Sessions["revoked"])
	}
}

// reconnectProfile: every client goes offline (fail-fast) from 40 s to 60 s
// and the token endpoint answers 503 until 65 s, so the reconnection herd at
// 60 s fails together and its retries show the jitter strategy.
func reconnectProfile(jitter string) profiles.Profile {
	p := fleetProfile(
		profiles.Event{Type: profiles.EventOutage, At: profiles.At{Offset: profiles.Duration(40 * time.Second)},
			Duration: profiles.Duration(20 * time.Second), Fraction: 1, Mode: profiles.OutageFailFast},
		profiles.Event{Type: profiles.EventBrownout, At: profiles.At{Offset: profiles.Duration(40 * time.Second)},
			Duration: profiles.Duration(25 * time.Second), Rate503: 1},
	)
	p.TimeScale = 1
	p.Duration = profiles.Duration(90 * time.Second)
	p.App.APICallsPerMinute = 0
	p.SDK.Retry.Jitter = jitter
	return p
}

// peakAfter is the most refresh attempts in one timeline bucket in the span
// after from, leaving out the bucket of from itself.
func peakAfter(tl reports.Timeline, from, span time.Duration) int64 {
	lo, hi := bucketRange(from, span, tl.BucketMs)
	var peak int64
	for b := lo + 1; b < hi && b < len(tl.RefreshAttempts); b++ {
		peak = max(peak, tl.RefreshAttempts[b])
	}
	return peak
}

func TestJitterNoneRetriesInLockstep(t *testing.T) {
	none, _ := runFake(t, reconnectProfile(profiles.JitterNone), nil)
	full, _ := runFake(t, reconnectProfile(profiles.JitterFull), nil)
	for _, r := range []*reports.Result{&none, &full} {
		checkBooks(t, r)
		if r.Events[0].Clients != 100 {
			t.Fatalf("outage took %d clients offline, want 100", r.Events[0].Clients)
		}
		if r.Ops[reports.OpRefresh].Errors["http_5xx"] < 100 {
			t.Fatalf("the reconnection herd did not meet the brownout: %+v", r.Ops[reports.OpRefresh].Errors)
		}
	}
	pn := peakAfter(none.Timeline, 60*time.Second, 10*time.Second)
	pf := peakAfter(full.Timeline, 60*time.Second, 10*time.Second)
	t.Logf("peak refreshes per 100 ms after the restore: none %d, full %d; burst_10s none %d, full %d",
		pn, pf, none.Events[0].Burst10s, full.Events[0].Burst10s)
	if pn < 90 || pn <= 2*pf {
		t.Errorf("jitter none: peak %d per 100 ms after the restore, full: %d; want none ≥ 90 and more than twice full", pn, pf)
	}
}
