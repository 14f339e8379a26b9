package driver

import (
	"math"
	"testing"
	"time"
)

// TestInstantsKeepTheOrderOfTimes: instants compare as the times they
// stand for, round-trip to the same times, and a time beyond
// time.Duration's range from the start (a token expiring in 9999) is the
// latest instant, never one in the past (a driver that took it for one
// would fire its expiry forever).
func TestInstantsKeepTheOrderOfTimes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &Driver{cfg: Config{Start: start}}
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	times := []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), start.Add(-time.Hour), start.Add(-1), start,
		start.Add(1), start.Add(time.Millisecond), start.Add(90 * time.Second), start.Add(24 * time.Hour), far,
	}
	if d.instant(time.Time{}) != 0 || !d.time(0).IsZero() {
		t.Fatalf("the zero time is instant %d, instant 0 is %v: want each other", d.instant(time.Time{}), d.time(0))
	}
	for i, a := range times {
		ia := d.instant(a)
		if ia == 0 {
			t.Fatalf("%v is instant 0, which means none", a)
		}
		if a != far && !d.time(ia).Equal(a) {
			t.Errorf("%v comes back as %v", a, d.time(ia))
		}
		for _, b := range times[i+1:] {
			if ib := d.instant(b); !(ia < ib) {
				t.Errorf("%v (instant %d) is not before %v (instant %d)", a, ia, b, ib)
			}
		}
	}
	if got := d.instant(far); got != math.MaxInt64 {
		t.Errorf("9999-12-31 is instant %d, want the latest (%d)", got, int64(math.MaxInt64))
	}
	if !d.time(d.instant(far)).After(start.Add(200 * 365 * 24 * time.Hour)) {
		t.Errorf("9999-12-31 comes back as %v: want centuries after the start", d.time(d.instant(far)))
	}
}
