package chaos

import (
	"math"
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

// Plan places the profile's events on the wall-clock timeline, in profile
// order; each kind says where its window ends (see EventKind.End).
func Plan(p profiles.Profile) []Window {
	ws := make([]Window, len(p.Events))
	for i, e := range p.Events {
		start := p.WallOffset(e.At)
		end := start
		if k := Kind(e.Type); k != nil && k.End != nil {
			end = k.End(p, e, start)
		}
		ws[i] = Window{Index: i, Event: e, Start: start, End: min(end, p.Duration.D())}
	}
	return ws
}

// ChangeKind is what a ClientChange does.
type ChangeKind uint8

// Client changes.
const (
	ChangeOffline  ChangeKind = iota + 1 // the device loses its network (Mode says how)
	ChangeOnline                         // the network comes back
	ChangeSkew                           // the device clock is off by Skew from now on
	ChangeRevoke                         // the client's session is revoked server-side
	ChangePending                        // the client's session becomes pending with Task (session_task)
	ChangeTaskDone                       // the user completed the session task
	ChangeEnd                            // the client's session is ended through the end endpoint (session_end)
)

// ClientChange is one change to one client at a wall-clock offset.
type ClientChange struct {
	At     time.Duration
	Kind   ChangeKind
	Mode   string        // ChangeOffline: profiles.OutageFailFast or OutageBlackhole
	Skew   time.Duration // ChangeSkew
	Window int
	// Task is the session task of a ChangePending.
	Task string
}

// ClientChanges lists, in time order, what the events do to client idx
// (see EventKind.Changes): whether an outage takes it offline (a seeded
// draw against the event's fraction), when its network comes back (spread
// over RestoreSpread), whether a revocation wave revokes its session and
// whether its clock is skewed. Selection is by client index, so the shards
// of a run together select exactly the clients the whole run would.
func ClientChanges(p profiles.Profile, ws []Window, idx int) []ClientChange {
	var out []ClientChange
	for _, w := range ws {
		if k := Kind(w.Event.Type); k != nil && k.Changes != nil {
			out = append(out, k.Changes(p, w, idx)...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// spread maps client idx to [0, 1) along a golden-ratio sequence with a
// seeded offset: any run of consecutive clients, and any shard's share of
// them, covers [0, 1) evenly, so "fraction of the clients" selects a count
// within a client or two of fraction × clients.
func spread(seed, window uint64, idx int) float64 {
	const phi = 0.6180339887498949
	_, f := math.Modf(unit(seed, window, 0x5eed) + float64(idx)*phi)
	return f
}
