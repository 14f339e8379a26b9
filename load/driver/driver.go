// Package driver is the clock-free client driver every engine uses
// (docs/design.md): it places each client's start on the ramp, keeps the
// model's timers, the app's foreground and background life, fleet events'
// changes and the device clock's error, and tells its engine which
// requests to send. It reads no clock and starts no goroutine: the engine
// passes the time with every call, sends the requests and feeds back the
// answers, so the live engine and a simulator in virtual time drive the
// same fleet the same way.
package driver

import (
	"math"
	"time"
	"unsafe"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// Config is the plan a driver carries out for its share of a fleet.
type Config struct {
	// Profile is the validated profile, durations already in wall-clock
	// time through its Scale.
	Profile profiles.Profile
	// Model is the clients' shared model configuration.
	Model *model.ClientConfig
	// Windows are the profile's fleet events on the run's timeline.
	Windows []chaos.Window
	// Start is when the run begins; ramp slots and event times count from it.
	Start time.Time
	// Sink records what the clients do, as shard Shard.
	Sink  record.Sink
	Shard int
	// SuspendAfter is how long (simulated time) an app stays in the
	// background before the OS suspends it and its connections die.
	SuspendAfter time.Duration
	// Observe, if set, sees every action of every client as it is taken.
	Observe func(client int, now time.Time, a model.Action)
	// ObserveEvent, if set, sees every event fed to every client.
	ObserveEvent func(client int, now time.Time, ev model.Event)
	// CanSignIn, if set, says whether a client still has credentials to
	// sign in with. A client without is answered at once with
	// model.CodeCredentialsExhausted instead of sending a request that
	// would never leave the process; nil means every client has.
	CanSignIn func(client int) bool
}

// OutputKind says what the engine must do for an Output.
type OutputKind uint8

// Outputs.
const (
	// OutSend: send a request for Client (Request).
	OutSend OutputKind = iota + 1
	// OutRelease: Client's network came back from a blackhole outage: its
	// requests held by the network go out now.
	OutRelease
	// OutRevoke: have the target revoke SessionID, for fleet event Window.
	OutRevoke
	// OutDrop: close Client's idle connections; its next request dials.
	OutDrop
	// OutPending: have the target move SessionID into pending with Task,
	// for fleet event Window (session_task).
	OutPending
	// OutCompleteTask: the user completed the session task of SessionID.
	OutCompleteTask
	// OutEnd: end SessionID through the end endpoint with ClientToken,
	// for fleet event Window (session_end).
	OutEnd
)

// Output is one thing the engine must do. Which fields matter depends on
// Kind.
type Output struct {
	Kind OutputKind
	// Cold says an OutDrop is a cold start: the app was killed, and its
	// TLS sessions went with it.
	Cold   bool
	Client int
	// Slot is the client's place in its driver: an Answer gives it back.
	Slot int
	Request
	Window    int
	SessionID string
	// Task is OutPending's session task; ClientToken OutEnd's.
	Task        string
	ClientToken string
}

// Request is a request a client sent: the model's action, and what the
// client's network does to it.
type Request struct {
	Op record.Op
	// Lost says the network loses it (it hangs until its deadline).
	Lost   bool
	Action model.Action
	// Sent is when the client sent it; Deadline when it times out.
	Sent, Deadline time.Time
	// Offline is the outage mode of the client's network ("" online):
	// fail_fast fails the request at once, blackhole holds it until an
	// OutRelease for the client or its deadline.
	Offline string
	// Delay is the network's latency before it reaches the target.
	Delay time.Duration
}

// Answer is the end of a request the engine sent: the event that answers
// it, and when it went on the wire and when its answer (or failure) came.
type Answer struct {
	Client, Slot int // as the Output that sent the request
	Event        model.Event
	Op           record.Op
	// Intended is when the model meant the request to start, Sent when the
	// client sent it.
	Intended, Sent, Wire, Done time.Time
	// TokenSeq is, for an API call, the generation of the token it carried
	// (its Request's Action.TokenSeq); 0 when not known. A 4xx answer to a
	// token older than the client's newest is recorded as
	// model.ClassSuperseded.
	TokenSeq uint64
}

// Driver drives a share of a fleet: a timing wheel of the clients'
// next deadlines. It is not safe for concurrent use: one goroutine drives it.
type Driver struct {
	cfg      Config
	clients  []*client
	heap     deadlines
	inflight int
	buf      []model.Action // the actions of the client stepping now
	out      []Output
	// due is each slot's deadline in the heap (ns from Start), noDue if
	// none: an entry of the heap with another time was superseded.
	due   []int64
	units []unit // the clients, by slot
}

// unit is a client and its model, side by side.
type unit struct {
	c client
	m model.Client
}

// New returns a driver for the clients with the given fleet indices.
func New(cfg Config, indices []int) *Driver {
	cfg.Start = wall(cfg.Start)
	d := &Driver{cfg: cfg, clients: make([]*client, len(indices)), due: make([]int64, len(indices))}
	p := cfg.Profile
	plan := StagePlan(p)
	// A client and its model side by side, the fleet in one array: a
	// client's step touches neighbouring memory, not allocations scattered
	// over the heap.
	units := make([]unit, len(indices))
	d.units = units
	for i, idx := range indices {
		u := &units[i]
		u.m.Init(cfg.Model, p.Seed, idx)
		c := &u.c
		*c = client{
			d: d, idx: idx, slot: i,
			m:       &u.m,
			start:   cfg.Start.Add(RampOffset(p.Seed, idx, p.Clients, p.Ramp.D())),
			link:    chaos.NewLink(p, idx),
			life:    chaos.NewLifecycle(p, idx),
			changes: chaos.ClientChanges(p, cfg.Windows, idx),
		}
		if plan != nil && idx < len(plan) {
			c.start = cfg.Start.Add(plan[idx].Join)
			if plan[idx].Leave >= 0 {
				c.leaveAt = instantOf(plan[idx].Leave)
			}
		}
		d.clients[i] = c
		d.due[i] = noDue
		d.push(c)
	}
	return d
}

// Next is the earliest time something is due; false when nothing is.
func (d *Driver) Next() (time.Time, bool) {
	for {
		e, ok := d.heap.peek()
		if !ok {
			return time.Time{}, false
		}
		if e.at == d.due[e.slot] {
			return d.cfg.Start.Add(time.Duration(e.at)), true
		}
		d.heap.pop() // drop superseded entries from the top
	}
}

// InFlight is how many requests the driver's clients have sent and not
// yet had answered.
func (d *Driver) InFlight() int { return d.inflight }

// Advance runs every client whose deadline has come by now, earliest first,
// and returns what the engine must do. The slice is reused by the next call.
func (d *Driver) Advance(now time.Time) []Output {
	d.out = d.out[:0]
	now = wall(now)
	limit := int64(now.Sub(d.cfg.Start))
	for {
		e, ok := d.heap.peek()
		if !ok || e.at > limit {
			break
		}
		d.heap.pop()
		if e.at != d.due[e.slot] {
			continue // superseded by a later push
		}
		d.due[e.slot] = noDue
		if next, ok := d.heap.peek(); ok {
			prefetch(uintptr(unsafe.Pointer(&d.units[next.slot])), unsafe.Sizeof(unit{}))
		}
		c := &d.units[e.slot].c
		c.fire(now)
		d.push(c)
	}
	return d.out
}

// Answer feeds the end of a request to its client at now and returns what
// the engine must do. The slice is reused by the next call.
func (d *Driver) Answer(now time.Time, a Answer) []Output {
	d.out = d.out[:0]
	now = wall(now)
	c := d.clients[a.Slot]
	d.inflight--
	c.settle(now, a)
	d.push(c)
	return d.out
}

// Stop ends the run for every client at now: the models stop and nothing
// more is due. Answers to requests in flight are still fed with Answer.
func (d *Driver) Stop(now time.Time) []Output {
	d.out = d.out[:0]
	now = wall(now)
	for _, c := range d.clients {
		c.stop(now)
	}
	d.heap.reset()
	return d.out
}

// Finish records every client's last session status and the API calls it
// never settled (the run's lost requests, as evidence: see
// model.Client.Unsettled); call it once, after Stop, when no request is in
// flight.
func (d *Driver) Finish() {
	for _, c := range d.clients {
		d.cfg.Sink.Record(d.cfg.Shard, record.Fact{Kind: record.FactFinished, Client: c.idx, Status: c.m.SessionStatus()})
		for _, u := range c.m.Unsettled() {
			d.cfg.Sink.Record(d.cfg.Shard, record.Fact{Kind: record.FactUnsettled, Client: c.idx, At: u.Issued.Add(-c.skew),
				Action: &model.Action{Kind: model.ActRecord, At: u.Issued.Add(-c.skew), Attempt: u.Retries,
					TokenSeq: u.TokenSeq, NewestSeq: u.NewestSeq, State: u.State}})
		}
	}
}

// push records c's next deadline in the heap, if it changed.
func (d *Driver) push(c *client) {
	_, at := c.earliest()
	if at.IsZero() {
		return
	}
	ns := int64(at.Sub(d.cfg.Start))
	if ns == d.due[c.slot] {
		return
	}
	d.due[c.slot] = ns
	d.heap.push(deadline{at: ns, slot: int32(c.slot)})
}

// wall is t without its monotonic clock reading: the driver keeps one
// clock, the wall clock, for Start, every now and every deadline. A
// token's exp (time.Unix) has no monotonic reading, and time.Time compares
// a time without one with any other by the wall clock, but subtracts two
// that both carry one by the monotonic clock. With a monotonic Start and
// now, a deadline's key in the wheel (at − Start) and the client's test of
// it (at after now) would read different clocks, and the microseconds
// time.Now can spend between reading its two clocks (a thread preempted
// between them) would make a deadline the wheel hands out as due one the
// client holds as not yet come: Advance would pop it and push it back
// forever. With one clock, a client that fire leaves undue has its next
// deadline after now, so Advance pops every entry at most once.
func wall(t time.Time) time.Time { return t.Round(0) }

// noDue marks a slot without a deadline in the heap.
const noDue = math.MinInt64

func (d *Driver) record(f record.Fact) { d.cfg.Sink.Record(d.cfg.Shard, f) }
