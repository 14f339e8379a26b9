package load

import (
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// BurstWindow is the simulated time after an event over which its burst is counted.
const BurstWindow = 10 * time.Second

// eventResults describes each planned event as it happened: when, how many
// clients or sessions it hit, what the target said, and the refresh burst,
// API 401s and forced sign-outs in the BurstWindow that follows it (after
// the restore, for an outage).
func eventResults(p profiles.Profile, ws []chaos.Window, clients []int64, applied []chaos.Applied, tl reports.Timeline) []reports.Event {
	out := make([]reports.Event, len(ws))
	for i, w := range ws {
		ev := reports.Event{
			Index: w.Index, Type: w.Event.Type, At: w.Event.At.String(),
			StartS: w.Start.Seconds(), EndS: w.End.Seconds(), Clients: clients[i],
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
		from := w.Start
		if w.Event.Type == profiles.EventOutage {
			from = w.End
		}
		lo, hi := bucketRange(from, p.Scale(profiles.Duration(BurstWindow)), tl.BucketMs)
		ev.Burst10s = sumRange(tl.RefreshAttempts, lo, hi)
		ev.API401 = sumRange(tl.API401, lo, hi)
		ev.ForcedSignouts = sumRange(tl.ForcedSignouts, lo, hi)
		out[i] = ev
	}
	return out
}

// bucketRange is the half-open range of timeline buckets covering [from, from+span).
func bucketRange(from, span time.Duration, bucketMs int) (lo, hi int) {
	b := time.Duration(bucketMs) * time.Millisecond
	if b <= 0 {
		return 0, 0
	}
	lo = int(from / b)
	hi = int((from + span + b - 1) / b)
	return lo, max(hi, lo+1)
}

func sumRange(s []int64, lo, hi int) int64 {
	var n int64
	for i := max(lo, 0); i < hi && i < len(s); i++ {
		n += s[i]
	}
	return n
}
