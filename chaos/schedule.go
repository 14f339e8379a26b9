package chaos

import (
	"sort"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Window is one profile event placed on the run's wall-clock timeline.
type Window struct {
	Index int
	Event profiles.Event
	// Start and End are wall-clock offsets from the start of the run; End
	// equals Start for an instant event and is the end of the run for one
	// that lasts until then.
	Start, End time.Duration
}

// Plan places the profile's events on the wall-clock timeline, in profile order.
func Plan(p profiles.Profile) []Window {
	ws := make([]Window, len(p.Events))
	for i, e := range p.Events {
		start := p.WallOffset(e.At)
		end := start
		switch e.Type {
		case profiles.EventOutage, profiles.EventBrownout, profiles.EventSpurious401:
			end = start + p.Scale(e.Duration)
		case profiles.EventClockSkew, profiles.EventClientTokenRotation:
			end = p.Duration.D()
			if e.Duration > 0 {
				end = start + p.Scale(e.Duration)
			}
		}
		ws[i] = Window{Index: i, Event: e, Start: start, End: min(end, p.Duration.D())}
	}
	return ws
}

// ChangeKind is what a ClientChange does.
type ChangeKind uint8

// Client changes.
const (
	ChangeOffline ChangeKind = iota + 1 // the device loses its network (Mode says how)
	ChangeOnline                        // the network comes back
	ChangeSkew                          // the device clock is off by Skew from now on
)

// ClientChange is one change to one client at a wall-clock offset.
type ClientChange struct {
	At     time.Duration
	Kind   ChangeKind
	Mode   string        // ChangeOffline: profiles.OutageFailFast or OutageBlackhole
	Skew   time.Duration // ChangeSkew
	Window int
}

// ClientChanges lists, in time order, what the events do to client idx:
// whether an outage takes it offline (a seeded draw against the event's
// fraction), when its network comes back (spread over RestoreSpread), and
// whether its clock is skewed.
func ClientChanges(p profiles.Profile, ws []Window, idx int) []ClientChange {
	var out []ClientChange
	for _, w := range ws {
		e := w.Event
		switch e.Type {
		case profiles.EventOutage:
			if unit(p.Seed, uint64(w.Index)<<1, uint64(idx)) >= e.Fraction {
				continue
			}
			back := w.End + time.Duration(unit(p.Seed, uint64(w.Index)<<1|1, uint64(idx))*float64(p.Scale(e.RestoreSpread)))
			out = append(out,
				ClientChange{At: w.Start, Kind: ChangeOffline, Mode: e.Mode, Window: w.Index},
				ClientChange{At: back, Kind: ChangeOnline, Window: w.Index})
		case profiles.EventClockSkew:
			if e.DeviceOffset == 0 || unit(p.Seed, uint64(w.Index)<<1, uint64(idx)) >= e.Fraction {
				continue
			}
			out = append(out, ClientChange{At: w.Start, Kind: ChangeSkew, Skew: p.Scale(e.DeviceOffset), Window: w.Index})
			if w.End < p.Duration.D() {
				out = append(out, ClientChange{At: w.End, Kind: ChangeSkew, Window: w.Index})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}
