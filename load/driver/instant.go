package driver

import (
	"math"
	"time"
)

// instant is an engine time kept as its offset from the driver's Start,
// 0 for none: a third of a time.Time, and compared as one integer. An
// offset of 0 or more is stored one higher so that 0 stays free; the
// order of instants is the order of their times.
type instant int64

// instant is t as an instant of d; none for the zero time.
func (d *Driver) instant(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	return instantOf(t.Sub(d.cfg.Start))
}

// instantOf is the instant off after Start. An offset beyond
// time.Duration's range (a token that expires in the year 9999: t.Sub
// saturates) stays the latest instant; it never comes in a run.
func instantOf(off time.Duration) instant {
	switch {
	case off == math.MaxInt64:
		return math.MaxInt64
	case off >= 0:
		return instant(off) + 1
	}
	return instant(off)
}

// time is i as an engine time; the zero time for none.
func (d *Driver) time(i instant) time.Time {
	switch {
	case i == 0:
		return time.Time{}
	case i > 0:
		return d.cfg.Start.Add(time.Duration(i - 1))
	}
	return d.cfg.Start.Add(time.Duration(i))
}
