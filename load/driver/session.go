package driver

import (
	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
)

// sessionChange asks the engine to act on the client's session for a
// session_task or session_end event: pending with a task, the task done,
// or the session ended through the end endpoint. A client without a
// session (signing in, signed out) is left alone; the task is completed
// on whatever session the client holds by then (a no-op unless pending).
func (c *client) sessionChange(ch chaos.ClientChange, hit record.Fact) {
	sid := c.m.SessionID()
	if sid == "" || c.m.Phase() != model.PhaseSignedIn {
		return
	}
	switch ch.Kind {
	case chaos.ChangePending:
		c.d.record(hit)
		c.output(Output{Kind: OutPending, Window: ch.Window, SessionID: sid, Task: ch.Task})
	case chaos.ChangeTaskDone:
		c.output(Output{Kind: OutCompleteTask, Window: ch.Window, SessionID: sid})
	case chaos.ChangeEnd:
		c.d.record(hit)
		c.output(Output{Kind: OutEnd, Window: ch.Window, SessionID: sid, ClientToken: c.m.ClientToken()})
	}
}
