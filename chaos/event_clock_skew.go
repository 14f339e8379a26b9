package chaos

import (
	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// clockSkew moves the server's JWT clock (server_offset) and the clocks of
// a seeded fraction of the devices (device_offset) for its duration, or
// until the end of the run.
var clockSkew = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventClockSkew,
		Fields: []string{"server_offset", "device_offset", "fraction", "duration"},
		Check:  checkClockSkew,
	},
	End:       forDurationOrRun,
	Changes:   clockSkewChanges,
	OnBackend: func(e profiles.Event) bool { return e.ServerOffset != 0 },
	Faults: func(ft *adminapi.Faults, p profiles.Profile, e profiles.Event) {
		ft.ClockOffset += p.Scale(e.ServerOffset)
	},
}

func checkClockSkew(e profiles.Event, c profiles.EventChecker) {
	c.NonNegative("duration", e.Duration)
	switch {
	case e.ServerOffset == 0 && e.DeviceOffset == 0:
		c.Bad("", "a clock_skew needs server_offset, device_offset or both (durations such as \"30s\" or \"-2m\")")
	case e.DeviceOffset != 0:
		c.Share("fraction", e.Fraction, false, "the devices whose clocks are off")
	case e.Fraction != 0:
		c.Bad("fraction", "applies only with device_offset (the share of devices whose clocks are off)")
	}
}

// clockSkewChanges skews the clock of client idx if a seeded draw falls
// below the fraction, and sets it right when a window shorter than the run
// closes.
func clockSkewChanges(p profiles.Profile, w Window, idx int) []ClientChange {
	e := w.Event
	if e.DeviceOffset == 0 || unit(p.Seed, uint64(w.Index)<<1, uint64(idx)) >= e.Fraction {
		return nil
	}
	out := []ClientChange{{At: w.Start, Kind: ChangeSkew, Skew: p.Scale(e.DeviceOffset), Window: w.Index}}
	if w.End < p.Duration.D() {
		out = append(out, ClientChange{At: w.End, Kind: ChangeSkew, Window: w.Index})
	}
	return out
}
