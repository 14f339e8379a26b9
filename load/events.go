package load

import (
	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/reports"
)

// eventResults describes each planned event as it happened: when, how many
// clients or sessions it hit and what the target said. reports.Analyze adds
// its burst and recovery from the timeline.
func eventResults(ws []chaos.Window, clients []int64, applied []chaos.Applied) []reports.Event {
	out := make([]reports.Event, len(ws))
	byWindow := map[int][]chaos.Applied{} // each window's, so that many events cost events + applied, not their product
	for _, a := range applied {
		byWindow[a.Window] = append(byWindow[a.Window], a)
	}
	for i, w := range ws {
		ev := reports.Event{
			Index: w.Index, Type: w.Event.Type, At: w.Event.At.String(),
			StartS: w.Start.Seconds(), EndS: w.End.Seconds(), Clients: clients[i],
		}
		if k := chaos.Kind(w.Event.Type); k != nil && k.BurstFromEnd {
			ev.BurstFrom = reports.BurstFromEnd
		}
		for _, a := range byWindow[w.Index] {
			ev.Sessions += int64(a.Affected)
			if a.Err != nil && ev.Error == "" {
				ev.Error = a.Err.Error()
			}
		}
		out[i] = ev
	}
	return out
}
