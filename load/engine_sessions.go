package load

import (
	"context"
	"errors"
	"fmt"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
)

// errNoEnd is a session_end event's error against a target whose
// sessions have no end endpoint.
var errNoEnd = errors.New("the target has no end endpoint for session_end (the embedded backend and fapi targets do)")

// errNoTasks is a session_task event's error against a target without the
// embedded backend's admin API for session tasks.
var errNoTasks = errors.New("the target has no admin API for session tasks (the embedded backend and stampede serve do)")

// sessionChange carries out a session_task or session_end event's change
// to one session in the background: pending with a task and ended
// sessions count as the event's sessions; the task's completion counts
// only when it fails.
func (e *Engine) sessionChange(ctx context.Context, o driver.Output) {
	e.admin.Add(1)
	go func() {
		defer e.admin.Done()
		var err error
		switch o.Kind {
		case driver.OutPending, driver.OutCompleteTask:
			ta, ok := e.cfg.Admin.(chaos.TaskAdmin)
			switch {
			case !ok:
				err = errNoTasks
			case o.Kind == driver.OutPending:
				err = ta.SetPending(ctx, o.SessionID, o.Task)
			default:
				if err = ta.CompleteTask(ctx, o.SessionID); err == nil {
					return
				}
			}
		case driver.OutEnd:
			en, ok := target.As[target.Ender](e.cfg.Auth)
			if !ok {
				err = errNoEnd
				break
			}
			if out := en.End(ctx, o.SessionID, o.ClientToken); out.Class != model.ClassOK {
				if out.Status == 401 || out.Status == 404 {
					return // the session was over already: nothing to end
				}
				err = fmt.Errorf("end session: %s %d %s", out.Class, out.Status, out.Code)
			}
		}
		if o.Window >= 0 { // a stage's sign-out (Window -1) is no fleet event
			e.rec.Load().Revoked(o.Window, err)
		}
	}()
}
