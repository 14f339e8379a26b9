package reports

import "testing"

// synthetic is a 100 ms timeline of secs seconds: a steady fleet of 10
// refreshes and 20 API calls a second, no errors; shape changes it.
func synthetic(secs int, shape func(b int, tl *Timeline)) Timeline {
	n := secs * 10
	tl := Timeline{BucketMs: 100, RefreshAttempts: make([]int64, n), RefreshErrors: make([]int64, n),
		APICalls: make([]int64, n), API401: make([]int64, n)}
	for b := range n {
		tl.RefreshAttempts[b], tl.APICalls[b] = 1, 2
		if shape != nil {
			shape(b, &tl)
		}
	}
	return tl
}

// storm is a fault from 30 s to 40 s: half the API calls answered 401
// and the refreshes five times their rate; after it, herdS seconds of
// three times the refresh rate, and errS seconds of a 401 in every
// bucket's API calls.
func storm(herdS, errS int) func(b int, tl *Timeline) {
	return func(b int, tl *Timeline) {
		switch {
		case b >= 300 && b < 400:
			tl.RefreshAttempts[b], tl.API401[b] = 5, 1
		case b >= 400 && b < 400+herdS*10:
			tl.RefreshAttempts[b] = 3
		}
		if b >= 400 && b < 400+errS*10 {
			tl.API401[b] = 1
		}
	}
}

func TestFaultRecoveryOnASyntheticTimeline(t *testing.T) {
	for _, tc := range []struct {
		name         string
		tl           Timeline
		startS, endS float64
		want         float64 // -1: null
		reason       string
	}{
		// The herd of 30 refreshes/s lasts 3 s: the 5 s window from 3 s
		// after the end is the first at 10/s ± 2.
		{"a herd after the fault", synthetic(60, storm(3, 0)), 30, 40, 3, ""},
		{"back at once", synthetic(60, storm(0, 0)), 30, 40, 0, ""},
		// The refresh rate is back after 3 s but the 401s go on for 6 s:
		// the first window with no errors starts 6 s after the end.
		{"errors last longer than the herd", synthetic(60, storm(3, 6)), 30, 40, 6, ""},
		// An instant fault (a key rotation at 30 s) counts from its start:
		// 401s and a herd for 2 s.
		{"an instant fault", synthetic(60, func(b int, tl *Timeline) {
			if b >= 300 && b < 320 {
				tl.RefreshAttempts[b], tl.API401[b] = 4, 2
			}
		}), 30, 30, 2, ""},
		// 47 s of timeline: the herd ends at 43 s, no 5 s window fits after it.
		{"the run ended first", synthetic(47, storm(3, 0)), 30, 40, -1, RecoveryRunEnded},
		{"no traffic before the fault", synthetic(60, nil), 0.5, 10, -1, RecoveryNoBaseline},
		// A baseline shorter than 30 s is the time there was.
		{"a short baseline", synthetic(20, func(b int, tl *Timeline) {
			if b >= 50 && b < 80 {
				tl.RefreshAttempts[b] = 6
			}
		}), 5, 8, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := FaultRecovery(tc.tl, tc.startS, tc.endS)
			switch {
			case tc.want < 0 && (got != nil || reason != tc.reason):
				t.Errorf("recovery %v (%q), want null (%q)", deref(got), reason, tc.reason)
			case tc.want >= 0 && (got == nil || *got != tc.want || reason != ""):
				t.Errorf("recovery %v (%q), want %g s", deref(got), reason, tc.want)
			}
		})
	}
}
