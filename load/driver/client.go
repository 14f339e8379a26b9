package driver

import (
	"cmp"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// client is one simulated client as its driver drives it: the model plus
// the chaos around it and its deadlines.
type client struct {
	// What every deadline and answer reads comes first, in 128 bytes.
	d        *Driver
	m        *model.Client
	armed    [model.NumTimers]instant // the model's timers, in engine time
	lifeAt   instant                  // next foreground/background switch; 0 if none
	expireAt instant                  // when its valid token expires (engine time); 0 if none
	leaveAt  instant                  // when a shrinking stage removes it; 0 if never
	next     int                      // next change to apply
	changes  []chaos.ClientChange
	skew     time.Duration // the device clock's error
	// seqAt is when (engine time, Unix ns) the client's token generation
	// last changed, prevSeq the generation it held before that instant:
	// what a superseded token is told by, whatever the order of answers
	// that came at the same instant.
	seqAt int64

	// Its flags, together so that they take one word.
	started bool // its ramp slot came
	cold    bool // the app will be killed during this background gap
	held    bool // a request is held by a blackhole outage
	valid   bool // holds a valid token, as last counted in the gauge
	// suspended: this background gap is long enough (SuspendAfter) that
	// the OS suspends the app and its connections die.
	suspended bool

	idx   int       // in the fleet
	slot  int       // in its driver
	start time.Time // its ramp slot

	// Chaos around the client.
	link    *chaos.Link
	life    *chaos.Lifecycle
	offline string // outage mode while offline, "" online

	refreshing int // refreshes of this client in flight
	prevSeq    uint64
}

// due kinds besides the model's timers.
const (
	dueLife   = -1
	dueChange = -2
	dueExpiry = -3
	dueStart  = -4
	dueLeave  = -5
)

// earliest is the next deadline: a model timer (its kind), the lifecycle
// switch (dueLife), a client change (dueChange), the token's expiry
// (dueExpiry) or the ramp slot (dueStart).
func (c *client) earliest() (int, time.Time) {
	if !c.started {
		return dueStart, c.start
	}
	k, best := 0, instant(0)
	for i, t := range c.armed {
		if t != 0 && (best == 0 || t < best) {
			k, best = i, t
		}
	}
	if c.lifeAt != 0 && (best == 0 || c.lifeAt < best) {
		k, best = dueLife, c.lifeAt
	}
	if c.next < len(c.changes) {
		if t := instantOf(c.changes[c.next].At); best == 0 || t < best {
			k, best = dueChange, t
		}
	}
	if c.expireAt != 0 && (best == 0 || c.expireAt < best) {
		k, best = dueExpiry, c.expireAt
	}
	if c.leaveAt != 0 && (best == 0 || c.leaveAt <= best) {
		k, best = dueLeave, c.leaveAt
	}
	return k, c.d.time(best)
}

// fire handles whatever of c is due by now: its start, then its timers,
// lifecycle switches and fleet-event changes, earliest first.
func (c *client) fire(now time.Time) {
	if !c.started {
		if now.Before(c.start) {
			return
		}
		c.started = true
		c.d.record(record.Fact{Kind: record.FactStarted, Lag: now.Sub(c.start), At: now})
		c.step(now, model.Event{Kind: model.EvStart, At: c.start})
		if c.life != nil {
			c.lifeAt = c.d.instant(now.Add(c.life.Foreground()))
		}
	}
	if c.m.Phase() == model.PhaseIdle {
		return
	}
	for {
		k, at := c.earliest()
		if at.IsZero() || at.After(now) {
			return
		}
		switch k {
		case dueLife:
			c.switchLife(now)
		case dueChange:
			c.applyChange(now, c.changes[c.next])
			c.next++
		case dueExpiry:
			c.expireAt = 0
			c.countValid(now)
		case dueLeave:
			c.leave(now)
			return
		default:
			c.armed[k] = 0
			c.d.record(record.Fact{Kind: record.FactLag, Lag: now.Sub(at), At: now})
			c.step(now, model.Event{Kind: model.EvTimer, Timer: model.TimerKind(k), At: at})
		}
	}
}

// stop ends c's part in the run: the model stops and nothing more is due.
func (c *client) stop(now time.Time) {
	c.step(now, model.Event{Kind: model.EvStop})
	c.lifeAt, c.next = 0, len(c.changes)
	c.started = true // a client whose slot never came does not start now
	c.d.due[c.slot] = noDue
	if c.m.Background() {
		c.gauge(record.GaugeBackground, -1)
	}
	if c.offline != "" {
		c.gauge(record.GaugeOffline, -1)
	}
}

func (c *client) gauge(g record.Gauge, delta int64) {
	c.d.record(record.Fact{Kind: record.FactGauge, Gauge: g, Delta: delta})
}

func (c *client) output(o Output) {
	o.Client, o.Slot = c.idx, c.slot
	c.d.out = append(c.d.out, o)
}

// switchLife moves the app between foreground and background.
func (c *client) switchLife(now time.Time) {
	if c.m.Background() {
		c.gauge(record.GaugeBackground, -1)
		if c.cold || c.suspended {
			c.output(Output{Kind: OutDrop, Cold: c.cold})
		}
		c.step(now, model.Event{Kind: model.EvForeground, ColdStart: c.cold})
		c.lifeAt = c.d.instant(now.Add(c.life.Foreground()))
		return
	}
	var gap time.Duration
	gap, c.cold = c.life.Background()
	c.suspended = gap >= c.d.cfg.Profile.Scale(profiles.Duration(c.d.cfg.SuspendAfter))
	c.step(now, model.Event{Kind: model.EvBackground})
	if c.m.Background() {
		c.gauge(record.GaugeBackground, 1)
	}
	c.lifeAt = c.d.instant(now.Add(gap))
}

// applyChange carries out a fleet event's effect on this client.
func (c *client) applyChange(now time.Time, ch chaos.ClientChange) {
	hit := record.Fact{Kind: record.FactEventClient, Window: ch.Window}
	switch ch.Kind {
	case chaos.ChangeOffline:
		c.d.record(hit)
		if c.offline == "" {
			c.gauge(record.GaugeOffline, 1)
		}
		c.offline = ch.Mode
		c.output(Output{Kind: OutDrop}) // the network went away: so did the connections
		c.step(now, model.Event{Kind: model.EvOffline})
	case chaos.ChangeOnline:
		if c.offline != "" {
			c.gauge(record.GaugeOffline, -1)
		}
		c.offline = ""
		if c.held {
			c.held = false
			c.output(Output{Kind: OutRelease})
		}
		c.step(now, model.Event{Kind: model.EvOnline})
	case chaos.ChangeRevoke:
		if sid := c.m.SessionID(); sid != "" && c.m.Phase() == model.PhaseSignedIn {
			c.d.record(hit)
			c.output(Output{Kind: OutRevoke, Window: ch.Window, SessionID: sid})
		}
	case chaos.ChangePending, chaos.ChangeTaskDone, chaos.ChangeEnd:
		c.sessionChange(ch, hit)
	case chaos.ChangeSkew:
		if ch.Skew != 0 {
			c.d.record(hit)
		}
		c.skew = ch.Skew
	}
}

// settle feeds an answer to the client after recording it.
func (c *client) settle(now time.Time, a Answer) {
	if a.Op == record.OpRefresh {
		c.refreshing--
	}
	o := &a.Event.Outcome
	class := o.Class
	if a.Op == record.OpAPI && a.TokenSeq > 0 && refused(*o) && a.TokenSeq < c.seqBefore(now) {
		class = model.ClassSuperseded
	}
	c.d.record(record.Fact{Kind: record.FactAnswered, Op: a.Op, Class: class, HTTPStatus: o.Status, Code: cmp.Or(o.Said, o.Code), Body: o.Body,
		Wire: a.Wire, Done: a.Done, Latency: a.Done.Sub(a.Intended), Service: a.Done.Sub(a.Sent)})
	ev := a.Event
	if a.Op == record.OpSignIn && c.spentBy(ev.Outcome) {
		// The answer spent the client's last credentials: it is counted as
		// the target gave it, and the client learns it has none left.
		ev.Outcome.Code = model.CodeCredentialsExhausted
	}
	c.step(now, ev)
}

// spentBy reports whether a failed sign-in answer o left the client
// without credentials to sign in with.
func (c *client) spentBy(o model.Outcome) bool {
	if o.Class == model.ClassOK || o.Class == model.ClassCancelled || o.Class.Retryable() {
		return false
	}
	return c.d.cfg.CanSignIn != nil && !c.d.cfg.CanSignIn(c.idx)
}

// seqBefore is the token generation the client held just before the
// instant now: answers that come at the same instant as a new token are
// not told apart by the order in which the engine feeds them.
func (c *client) seqBefore(now time.Time) uint64 {
	if c.seqAt == now.UnixNano() {
		return c.prevSeq
	}
	return c.m.TokenSeq()
}

// refused reports whether o is a client error that is not a 429: the
// answer a server gives a token it no longer accepts.
func refused(o model.Outcome) bool {
	return o.Status >= 400 && o.Status < 500 && o.Status != 429
}

// step feeds ev to the client in device time (engine time plus the device
// clock's error) and carries out its actions in engine time.
func (c *client) step(now time.Time, ev model.Event) {
	d := c.d
	before := c.m.Phase()
	if d.cfg.ObserveEvent != nil {
		d.cfg.ObserveEvent(c.idx, now, ev)
	}
	if !ev.At.IsZero() {
		ev.At = ev.At.Add(c.skew)
	}
	seq := c.m.TokenSeq()
	acts := c.m.StepInto(d.buf, now.Add(c.skew), ev)
	d.buf = acts
	if c.m.TokenSeq() != seq && c.seqAt != now.UnixNano() {
		c.prevSeq, c.seqAt = seq, now.UnixNano()
	}
	c.phaseChanged(before, c.m.Phase())
	var exhausted uint64 // a sign-in without credentials: answered below, never sent
	for i := range acts {
		a := &acts[i]
		if d.cfg.Observe != nil {
			d.cfg.Observe(c.idx, now, *a)
		}
		if !a.At.IsZero() {
			a.At = a.At.Add(-c.skew)
		}
		switch a.Kind {
		case model.ActSetTimer:
			c.armed[a.Timer] = d.instant(a.At)
		case model.ActCancelTimer:
			c.armed[a.Timer] = 0
		case model.ActRecord:
			d.record(record.Fact{Kind: record.FactMetric, Client: c.idx, At: now, Action: a})
		case model.ActSignIn, model.ActRefresh, model.ActAPI:
			if a.Kind == model.ActSignIn && d.cfg.CanSignIn != nil && !d.cfg.CanSignIn(c.idx) {
				exhausted = a.Req
				continue
			}
			c.send(now, *a)
		}
	}
	c.countValid(now)
	if exhausted != 0 {
		c.step(now, model.Event{Kind: model.EvSignInDone, Req: exhausted,
			Outcome: model.Outcome{Class: model.ClassOther, Code: model.CodeCredentialsExhausted}})
	}
}

// countValid keeps the fleet's valid-token gauge and this client's expiry
// deadline in step with the client.
func (c *client) countValid(now time.Time) {
	v := c.m.Phase() != model.PhaseStopped && c.m.ValidToken(now.Add(c.skew))
	if v != c.valid {
		c.valid = v
		if v {
			c.gauge(record.GaugeValidToken, 1)
		} else {
			c.gauge(record.GaugeValidToken, -1)
		}
	}
	c.expireAt = 0
	if v {
		c.expireAt = c.d.instant(c.m.TokenExpiry().Add(-c.skew))
	}
}

func (c *client) phaseChanged(before, after model.Phase) {
	if before == after {
		return
	}
	if before == model.PhaseSignedIn {
		c.gauge(record.GaugeSignedIn, -1)
	}
	if before == model.PhaseSignedOut {
		c.gauge(record.GaugeSignedOut, -1)
	}
	if after == model.PhaseSignedIn {
		c.gauge(record.GaugeSignedIn, 1)
	}
	if after == model.PhaseSignedOut {
		c.gauge(record.GaugeSignedOut, 1)
	}
}

// send starts one request: the engine sends it, with what the client's
// network does to it decided here so that the draws stay seeded.
func (c *client) send(now time.Time, a model.Action) {
	c.d.inflight++
	var o record.Op
	switch a.Kind {
	case model.ActSignIn:
		o = record.OpSignIn
	case model.ActRefresh:
		o = record.OpRefresh
	default:
		o = record.OpAPI
	}
	sent := record.Fact{Kind: record.FactSent, Op: o, Client: c.idx, At: now}
	if o == record.OpRefresh {
		sent.Duplicate = c.refreshing > 0
		sent.Retry = a.Attempt > 0
		c.refreshing++
		if sent.Duplicate { // evidence for herd.duplicate_refreshes
			seq := c.m.TokenSeq()
			sent.Action = &model.Action{Kind: model.ActRecord, At: now, TokenSeq: seq, NewestSeq: seq, State: c.m.InterceptorState()}
		}
	}
	c.d.record(sent)
	delay, lost := c.link.Plan(chaos.RequestBytes, chaos.ResponseBytes)
	if c.offline == profiles.OutageBlackhole {
		c.held = true
	}
	c.output(Output{Kind: OutSend, Request: Request{
		Op: o, Action: a, Sent: now, Deadline: now.Add(c.d.cfg.Profile.SDK.RequestTimeout.D()),
		Offline: c.offline, Delay: delay, Lost: lost,
	}})
}
