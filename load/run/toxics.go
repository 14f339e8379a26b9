package run

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// toxicRun drives a run's toxic events against a toxiproxy-server.
type toxicRun struct {
	tx     *chaos.Toxics
	cancel context.CancelFunc
	done   chan struct{}
}

// startToxics starts applying p's toxic events from start (shard 0 only,
// like the fleet's other events); it warns on w when Toxiproxy or a proxy
// cannot be reached, and the events then carry the error in result.json.
func startToxics(ctx context.Context, p profiles.Profile, start time.Time, shard int, w io.Writer) *toxicRun {
	tr := &toxicRun{done: make(chan struct{})}
	tx := chaos.NewToxics(chaos.NewToxiproxy(p.Target.Toxiproxy), chaos.Plan(p), p)
	if len(tx.Windows()) == 0 || shard != 0 {
		close(tr.done)
		return tr
	}
	tr.tx = tx
	check, cancelCheck := context.WithTimeout(ctx, 5*time.Second)
	if err := tx.Check(check); err != nil {
		fmt.Fprintf(w, "stampede: warning: toxic events: %v\n", err)
	}
	cancelCheck()
	var runCtx context.Context
	runCtx, tr.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(tr.done)
		tx.Run(runCtx, start)
	}()
	return tr
}

// finish removes the toxics still in place and records the toxic events'
// real ends and errors in res.Events.
func (tr *toxicRun) finish(res *reports.Result) {
	if tr.tx == nil {
		return
	}
	tr.cancel()
	<-tr.done
	ends := map[int]time.Duration{}
	for _, w := range tr.tx.Windows() {
		ends[w.Index] = w.End
	}
	errs := map[int]string{}
	for _, a := range tr.tx.Applied() {
		if a.Err != nil && errs[a.Window] == "" {
			errs[a.Window] = a.Err.Error()
		}
	}
	for i := range res.Events {
		ev := &res.Events[i]
		if end, ok := ends[ev.Index]; ok {
			ev.EndS = end.Seconds()
			if ev.Error == "" {
				ev.Error = errs[ev.Index]
			}
		}
	}
}
