package chaos

import (
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// outage takes a seeded fraction of the devices off the network (fail_fast:
// airplane mode; blackhole: requests hang) for its duration, then brings
// them back spread over restore_spread. Reports measure its herd from the
// restore.
var outage = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventOutage,
		Fields: []string{"fraction", "duration", "mode", "restore_spread"},
		Check:  checkOutage,
	},
	End:          forDuration,
	Changes:      outageChanges,
	BurstFromEnd: true,
}

func checkOutage(e profiles.Event, c profiles.EventChecker) {
	c.Share("fraction", e.Fraction, false, "the clients that go offline")
	c.Lasting("duration", e.Duration)
	c.OneOf("mode", e.Mode, []string{profiles.OutageFailFast, profiles.OutageBlackhole})
	c.NonNegative("restore_spread", e.RestoreSpread)
}

// outageChanges takes client idx offline if a seeded draw falls below the
// fraction, and brings it back at a seeded point of the restore spread.
func outageChanges(p profiles.Profile, w Window, idx int) []ClientChange {
	e := w.Event
	if unit(p.Seed, uint64(w.Index)<<1, uint64(idx)) >= e.Fraction {
		return nil
	}
	back := w.End + time.Duration(unit(p.Seed, uint64(w.Index)<<1|1, uint64(idx))*float64(p.Scale(e.RestoreSpread)))
	return []ClientChange{
		{At: w.Start, Kind: ChangeOffline, Mode: e.Mode, Window: w.Index},
		{At: back, Kind: ChangeOnline, Window: w.Index},
	}
}
