// Package load is stampede's live engine: it drives the client model
// (load/model) through the client driver (load/driver) over real HTTP in
// real, scaled time, and records what happened.
package load

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// Config is what the live engine needs for one run.
type Config struct {
	Profile  profiles.Profile
	Auth     target.Authenticator
	Resource target.Resource
	// Admin is the target's admin API, which fleet events act through; nil
	// when the target has none (such events are then reported as errors).
	Admin chaos.Admin
	// Observe, if set, sees every action of every client as it is taken
	// (from the client's goroutine; it must be safe for concurrent use).
	Observe func(client int, now time.Time, a model.Action)
	// ObserveEvent, if set, sees every event fed to every client, in real
	// time, like Observe.
	ObserveEvent func(client int, now time.Time, ev model.Event)
	// Shard and Shards select this process's part of a sharded run: the
	// clients whose index ≡ Shard (mod Shards), with the whole run's seeds.
	// Shards 0 means 1. Only shard 0 applies fleet events to the backend.
	Shard, Shards int
	// StartAt, if set, is when the run begins (every shard the same
	// instant, so fleet events coincide); Run waits for it.
	StartAt time.Time
	// Conns, if set, is the pool the target's client takes its connections
	// from (such as a Transport): a client's connections are dropped when it
	// goes offline or returns from a long background gap (SuspendAfter) or
	// a kill, and result.json records its counts.
	Conns transport.Conns
	// Interrupted is the grace in-flight requests get when the run is
	// interrupted before its end; default 2 s. At a normal end they get the
	// profile's request timeout.
	Interrupted time.Duration
	// MaxInFlight bounds the requests the engine has on the wire at once,
	// as a pool of that many sender goroutines (shared among the workers);
	// requests beyond it wait in order, their timeout running. Set it to
	// the connection pool's size: a request could not go out sooner
	// anyway, and a queued request costs a few hundred bytes where a
	// goroutine waiting for a connection costs kilobytes. 0 means no bound:
	// a goroutine per request. Requests held by the client's network
	// (latency, loss, an outage) wait outside the pool.
	MaxInFlight int
}

// Engine is the live engine: a goroutine per simulated client drives its
// Client model against real HTTP in real (scaled) time.
type Engine struct {
	cfg     Config
	ccfg    model.ClientConfig
	windows []chaos.Window
	admin   sync.WaitGroup // admin calls the clients' events made
	rec     atomic.Pointer[record.Recorder]
	start   time.Time

	// adminSlots bounds the admin calls in flight (maxAdminCalls): a
	// wave over many sessions queues its revocations rather than open a
	// connection for each.
	adminSlots chan struct{}
}

// New prepares a run. The profile must be valid.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("invalid profile: %w", err)
	}
	if cfg.Auth == nil || cfg.Resource == nil {
		return nil, errors.New("engine needs an Authenticator and a Resource")
	}
	if cfg.Interrupted <= 0 {
		cfg.Interrupted = 2 * time.Second
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("shard %d/%d: want 0 ≤ shard < %d", cfg.Shard, cfg.Shards, cfg.Shards)
	}
	return &Engine{cfg: cfg, ccfg: model.NewClientConfig(cfg.Profile), windows: chaos.Plan(cfg.Profile),
		adminSlots: make(chan struct{}, maxAdminCalls)}, nil
}

// Live reports the running test's totals; zero before Run starts.
func (e *Engine) Live() record.Live {
	if r := e.rec.Load(); r != nil {
		return r.Live()
	}
	return record.Live{}
}

// Collector returns a Prometheus collector of the engine's figures: it
// collects nothing before Run starts, and after Run returns its counts are
// those of the result.
func (e *Engine) Collector() prometheus.Collector {
	return record.NewCollector(e.rec.Load)
}

// Snapshot fills res with what the running test measured so far (ops,
// sessions, requests, timeline, herd); it is a no-op before Run starts. Use
// it to watch thresholds live.
func (e *Engine) Snapshot(res *reports.Result) error {
	rec := e.rec.Load()
	if rec == nil {
		return nil
	}
	res.Profile = e.cfg.Profile
	res.StartedAt = e.start.UTC()
	res.EndedAt = time.Now().UTC()
	if err := rec.Fill(res, time.Now()); err != nil {
		return err
	}
	reports.Analyze(res)
	return nil
}

// Run runs the fleet until the profile's duration has passed or ctx is
// cancelled, then stops every client, settles every request in flight and
// fills res. A cancelled ctx marks the result partial. Run returns once every
// goroutine it started has ended.
func (e *Engine) Run(ctx context.Context, res *reports.Result) error {
	p := e.cfg.Profile
	if !e.cfg.StartAt.IsZero() {
		wait := time.NewTimer(time.Until(e.cfg.StartAt))
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
		}
	}
	e.start = time.Now()
	if !e.cfg.StartAt.IsZero() && ctx.Err() == nil {
		e.start = e.cfg.StartAt // shards share one clock origin
	}
	timeout := p.SDK.RequestTimeout.D()
	rec := record.NewRecorder(shardCount(p.Clients), e.start, p.Duration.D()+timeout, len(e.windows))
	rec.SetStages(reports.StagesOf(p))
	e.rec.Store(rec)

	// requests run under reqCtx; when the drain is over it is cancelled with
	// ErrRunEnded and whatever is still in flight counts as cancelled.
	reqCtx, endRequests := context.WithCancelCause(context.WithoutCancel(ctx))
	defer endRequests(transport.ErrRunEnded)
	stop := make(chan struct{})

	var pool *senders
	if e.cfg.MaxInFlight > 0 {
		pool = newSenders(e.cfg.MaxInFlight)
	}
	workers := make([]*worker, shardCount(p.Clients))
	indices := make([][]int, len(workers))
	mine := 0
	for i := range p.Clients {
		if i%e.cfg.Shards != e.cfg.Shard {
			continue
		}
		indices[mine%len(workers)] = append(indices[mine%len(workers)], i)
		mine++
	}
	var canSignIn func(int) bool
	if cs, ok := target.As[interface{ CanSignIn(int) bool }](e.cfg.Auth); ok {
		canSignIn = cs.CanSignIn // credentials that run out (target.OAuth2)
	}
	for i := range workers {
		d := driver.New(driver.Config{
			Profile: p, Model: &e.ccfg, Windows: e.windows, Start: e.start,
			Sink: rec, Shard: i, SuspendAfter: transport.SuspendAfter,
			Observe: e.cfg.Observe, ObserveEvent: e.cfg.ObserveEvent, CanSignIn: canSignIn,
		}, indices[i])
		workers[i] = &worker{e: e, index: i, ctx: reqCtx, d: d, timer: newWakeTimer(), settled: make(chan struct{}, 1),
			senders: pool, restored: map[int]chan struct{}{}}
	}
	var clients sync.WaitGroup
	for _, w := range workers {
		clients.Add(1)
		go func() {
			defer clients.Done()
			w.run(stop)
		}()
	}

	var fleet *chaos.Fleet
	fleetDone := make(chan struct{})
	fleetCtx, stopFleet := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFleet()
	if len(e.windows) > 0 && e.cfg.Shard == 0 {
		fleet = chaos.NewFleet(e.cfg.Admin, e.windows, p)
		go func() {
			defer close(fleetDone)
			fleet.Run(fleetCtx, e.start)
		}()
	}

	sampled := make(chan struct{})
	samplerStop := make(chan struct{})
	go func() {
		defer close(sampled)
		e.sample(rec, samplerStop)
	}()

	end := time.NewTimer(time.Until(e.start.Add(p.Duration.D()))) // every shard ends at the same instant
	partial := false
	select {
	case <-end.C:
	case <-ctx.Done():
		end.Stop()
		partial = true
	}
	rec.Freeze() // progress shows the fleet as it was before the stop
	close(stop)
	stopFleet()
	grace := timeout
	if partial {
		grace = min(grace, e.cfg.Interrupted)
	}
	drained := make(chan struct{})
	go func() { clients.Wait(); close(drained) }()
	drain := time.NewTimer(grace + 100*time.Millisecond)
	select {
	case <-drained:
		drain.Stop()
	case <-drain.C:
		endRequests(transport.ErrRunEnded)
		<-drained
	}
	if pool != nil {
		pool.close() // every request is answered: the senders are idle
	}
	e.admin.Wait()
	endedAt := time.Now()
	close(samplerStop)
	<-sampled
	rec.Sample(endedAt, runtime.NumGoroutine())
	var applied []chaos.Applied
	if fleet != nil {
		<-fleetDone
		applied = fleet.Applied()
	}

	res.StartedAt, res.EndedAt = e.start.UTC(), endedAt.UTC()
	res.Partial = partial
	res.Profile = p
	res.TimeScale = reports.TimeScaleOf(p)
	res.Engine.Clients = mine
	res.Shard = reports.Shard{Index: e.cfg.Shard, Count: e.cfg.Shards}
	res.Engine.MaxRSSBytes = maxRSS()
	if pool != nil {
		res.Engine.QueuedRequests = pool.queuedTotal()
	}
	if e.cfg.Conns != nil {
		res.Engine.Connections = e.cfg.Conns.Stats()
	}
	if err := rec.Fill(res, endedAt); err != nil {
		return err
	}
	applied = append(applied, rec.Revocations()...)
	res.Events = eventResults(e.windows, rec.EventClients(), applied)
	reports.Analyze(res)
	return nil
}

// sample closes a timeline bucket every TimelineBucket with the fleet's
// gauges, and a window of the refresh latency series every LatencyWindow.
func (e *Engine) sample(rec *record.Recorder, stop <-chan struct{}) {
	t := time.NewTicker(record.TimelineBucket)
	defer t.Stop()
	w := reports.NewHistogram()
	n := 0
	for {
		select {
		case now := <-t.C:
			rec.Sample(now, runtime.NumGoroutine())
			if n++; n%int(record.LatencyWindow/record.TimelineBucket) == 0 {
				rec.RollLatency(w)
			}
		case <-stop:
			return
		}
	}
}

func shardCount(clients int) int {
	return max(1, min(clients, 4*runtime.GOMAXPROCS(0)))
}

// worker drives a share of the fleet: a client driver under a single wake
// timer. Its goroutine handles the timer; whoever has an answer to one of
// its clients' requests (a sender, most of the time) feeds it to the driver
// itself, under the worker's lock, and carries out what the driver asks:
// no hand-off to the worker's goroutine and back. Clients cost memory, not
// goroutines.
type worker struct {
	e       *Engine
	index   int // also its recorder shard
	ctx     context.Context
	timer   *wakeTimer
	senders *senders      // the engine's; nil: a goroutine per request
	settled chan struct{} // poked when the worker is stopped and nothing is in flight

	mu   sync.Mutex // guards what follows
	d    *driver.Driver
	wake time.Time // what the timer is set for; zero if stopped
	// restored holds, per client with requests held by a blackhole
	// outage, the channel closed when its network comes back.
	restored map[int]chan struct{}
	stopped  bool
}

// run drives the worker's clients' deadlines until stop closes and every
// request of theirs has been answered.
func (w *worker) run(stop <-chan struct{}) {
	defer w.timer.Close()
	w.mu.Lock()
	w.rearm()
	w.mu.Unlock()
	for {
		select {
		case <-w.timer.C():
			w.mu.Lock()
			w.wake = time.Time{}
			w.carryOut(w.d.Advance(time.Now()), nil)
			w.rearm()
			w.mu.Unlock()
		case <-stop:
			stop = nil
			w.mu.Lock()
			w.stopped = true
			w.carryOut(w.d.Stop(time.Now()), nil)
			w.timer.Set(time.Time{})
			w.wake = time.Time{}
			w.mu.Unlock()
		case <-w.settled:
		}
		if stop == nil {
			w.mu.Lock()
			done := w.d.InFlight() == 0
			if done {
				w.d.Finish()
			}
			w.mu.Unlock()
			if done {
				return
			}
		}
	}
}

// deliver feeds the answer a to the driver and carries out what it asks.
// When own is not nil, the first request the answer starts that a sender
// may make is put in *own instead of being submitted, and deliver reports
// true: the sender that made the answered request makes it next.
func (w *worker) deliver(a driver.Answer, own *job) bool {
	w.mu.Lock()
	took := w.carryOut(w.d.Answer(time.Now(), a), own)
	w.rearm()
	settled := w.stopped && w.d.InFlight() == 0
	w.mu.Unlock()
	if settled {
		select {
		case w.settled <- struct{}{}:
		default:
		}
	}
	return took
}

// rearm points the worker's timer at the driver's earliest deadline. Call
// it with w.mu held.
func (w *worker) rearm() {
	at, _ := w.d.Next()
	if at.Equal(w.wake) {
		return
	}
	w.wake = at
	w.timer.Set(at)
}

// carryOut does what the driver asked: sends requests, releases requests
// held by a blackhole outage, revokes sessions and drops connections. Call
// it with w.mu held. With own not nil, the first request for a sender goes
// to *own, not to the pool, and carryOut reports true.
func (w *worker) carryOut(outs []driver.Output, own *job) bool {
	took := false
	for i := range outs {
		o := &outs[i]
		switch o.Kind {
		case driver.OutSend:
			if own != nil && !took && w.pooled(o.Request) {
				*own = job{w: w, client: o.Client, slot: o.Slot, req: o.Request}
				took = true
				continue
			}
			w.send(o.Client, o.Slot, o.Request)
		case driver.OutRelease:
			if ch := w.restored[o.Client]; ch != nil {
				close(ch)
				delete(w.restored, o.Client)
			}
		case driver.OutRevoke:
			w.e.revoke(w.ctx, o.Window, o.SessionID)
		case driver.OutPending, driver.OutCompleteTask, driver.OutEnd:
			w.e.sessionChange(w.ctx, *o)
		case driver.OutDrop:
			cs, cold := w.e.cfg.Conns.(transport.ColdStarter)
			switch {
			case cold && o.Cold:
				cs.ColdStart(o.Client)
			case w.e.cfg.Conns != nil:
				w.e.cfg.Conns.Drop(o.Client)
			}
		}
	}
	return took
}

// pooled reports whether req goes out on a pooled sender: the worker has
// them and the client's network lets it straight out.
func (w *worker) pooled(req driver.Request) bool {
	return req.Offline == "" && req.Delay <= 0 && !req.Lost && w.senders != nil
}

// send makes one request: on a pooled sender when the worker has them and
// the client's network lets it straight out, else in its own goroutine. Its
// answer is delivered to the worker, whatever happens. Call it with w.mu
// held.
func (w *worker) send(client, slot int, req driver.Request) {
	j := job{w: w, client: client, slot: slot, req: req}
	if w.pooled(req) {
		w.senders.submit(j)
		return
	}
	var restored chan struct{}
	if req.Offline == profiles.OutageBlackhole {
		if restored = w.restored[client]; restored == nil {
			restored = make(chan struct{})
			w.restored[client] = restored
		}
	}
	go func() {
		ctx, cancel := context.WithDeadline(w.ctx, req.Deadline)
		defer cancel()
		ctx = transport.WithClient(ctx, client)
		if out, cut := linkFails(ctx, req.Offline, restored, req.Delay, req.Lost); cut {
			now := time.Now()
			w.deliver(j.answer(model.Event{Kind: j.kind(), Req: req.Action.Req, Outcome: out}, now, now), nil)
			return
		}
		wire := time.Now()
		ev := j.exchange(ctx)
		w.deliver(j.answer(ev, wire, time.Now()), nil)
	}()
}

// maxAdminCalls bounds the admin calls of the clients' events in flight at once.
const maxAdminCalls = 64

// revoke has the target revoke one session for fleet event window, in the
// background: an admin call, not a request of the client's.
func (e *Engine) revoke(ctx context.Context, window int, sid string) {
	e.admin.Add(1)
	go func() {
		defer e.admin.Done()
		if e.adminSlots != nil {
			e.adminSlots <- struct{}{}
			defer func() { <-e.adminSlots }()
		}
		err := chaos.ErrNoAdmin
		if e.cfg.Admin != nil {
			err = e.cfg.Admin.Revoke(ctx, sid)
		}
		e.rec.Load().Revoked(window, err)
	}()
}

// linkFails applies the client's network to a request about to be sent:
// offline fail-fast fails at once; offline blackhole hangs until the network
// comes back (restored closes; the request then goes out) or the request
// times out; a lost request hangs until its timeout; latency delays it. cut
// says the request never reaches the target.
func linkFails(ctx context.Context, offline string, restored <-chan struct{}, delay time.Duration, lost bool) (model.Outcome, bool) {
	switch {
	case offline == profiles.OutageFailFast:
		return model.Outcome{Class: model.ClassNetwork, Code: "offline"}, true
	case offline != "":
		select {
		case <-restored:
		case <-ctx.Done():
			return transport.Classify(ctx, nil, nil, ctx.Err()), true
		}
	case lost:
		<-ctx.Done()
		return transport.Classify(ctx, nil, nil, ctx.Err()), true
	case delay > 0:
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return transport.Classify(ctx, nil, nil, ctx.Err()), true
		}
	}
	return model.Outcome{}, false
}
