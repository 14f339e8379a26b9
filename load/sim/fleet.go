package sim

import (
	"context"
	"sort"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/reports"
)

// fleetStep is a fleet event's backend side opening or closing, as
// chaos.Fleet plays it in a live run: key rotations, brownouts, spurious
// 401s, server clock skew and client-token rotation act on the modelled
// backend through its admin API, in virtual time.
type fleetStep struct {
	at    int64
	w     int
	start bool
}

func (s *sim) planFleet() {
	for _, w := range s.windows {
		k := chaos.Kind(w.Event.Type)
		if k == nil || k.OnBackend == nil || !k.OnBackend(w.Event) {
			continue
		}
		s.steps = append(s.steps, fleetStep{at: int64(w.Start), w: w.Index, start: true})
		if w.End > w.Start {
			s.steps = append(s.steps, fleetStep{at: int64(w.End), w: w.Index})
		}
	}
	sort.SliceStable(s.steps, func(i, j int) bool { return s.steps[i].at < s.steps[j].at })
	for i, st := range s.steps {
		if st.at < int64(s.p.Duration.D()) {
			s.schedule(st.at, evFleet, uint32(i), 0)
		}
	}
}

// fleetStep opens or closes one window: a kind with faults has the faults
// of every open window merged and set, another starts or stops its effect.
func (s *sim) fleetStep(i int) {
	st := s.steps[i]
	e := s.windows[st.w].Event
	k := chaos.Kind(e.Type)
	a := chaos.Applied{Window: st.w, At: s.at(s.now)}
	if st.start {
		s.active[st.w] = true
	} else {
		delete(s.active, st.w)
	}
	ctx := context.Background()
	switch {
	case k.Faults != nil:
		a.Err = s.be.SetFaults(ctx, s.faults())
	case st.start && k.Start != nil:
		a.Err = k.Start(ctx, s.be, s.p, e)
	case !st.start && k.Stop != nil:
		a.Err = k.Stop(ctx, s.be, s.p, e)
	}
	if st.start || a.Err != nil {
		s.applied = append(s.applied, a)
	}
}

func (s *sim) faults() adminapi.Faults {
	var ft adminapi.Faults
	for w := range s.windows {
		if !s.active[w] {
			continue
		}
		e := s.windows[w].Event
		if k := chaos.Kind(e.Type); k.Faults != nil {
			k.Faults(&ft, s.p, e)
		}
	}
	return ft
}

// closeFleet closes the windows still open at the end of the run.
func (s *sim) closeFleet() {
	ctx := context.Background()
	for w := range s.windows {
		if !s.active[w] {
			continue
		}
		delete(s.active, w)
		e := s.windows[w].Event
		if k := chaos.Kind(e.Type); k.Stop != nil {
			_ = k.Stop(ctx, s.be, s.p, e)
		}
	}
	_ = s.be.SetFaults(ctx, adminapi.Faults{})
}

// eventResults describes each planned event as it happened, as a live
// run's result does: when, how many clients or sessions it hit.
func eventResults(ws []chaos.Window, clients []int64, applied []chaos.Applied) []reports.Event {
	out := make([]reports.Event, len(ws))
	for i, w := range ws {
		ev := reports.Event{
			Index: w.Index, Type: w.Event.Type, At: w.Event.At.String(),
			StartS: w.Start.Seconds(), EndS: w.End.Seconds(), Clients: clients[i],
		}
		if k := chaos.Kind(w.Event.Type); k != nil && k.BurstFromEnd {
			ev.BurstFrom = reports.BurstFromEnd
		}
		for _, a := range applied {
			if a.Window != w.Index {
				continue
			}
			ev.Sessions += int64(a.Affected)
			if a.Err != nil && ev.Error == "" {
				ev.Error = a.Err.Error()
			}
		}
		out[i] = ev
	}
	return out
}
