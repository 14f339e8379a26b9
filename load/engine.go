// Package load is stampede's live engine: it drives the client model
// (load/model) through the client driver (load/driver) over real HTTP in
// real, scaled time, and records what happened.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/model"
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
	rec     atomic.Pointer[Recorder]
	start   time.Time
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
	return &Engine{cfg: cfg, ccfg: model.NewClientConfig(cfg.Profile), windows: chaos.Plan(cfg.Profile)}, nil
}

// Live reports the running test's totals; zero before Run starts.
func (e *Engine) Live() Live {
	if r := e.rec.Load(); r != nil {
		return r.Live()
	}
	return Live{}
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
	rec := NewRecorder(shardCount(p.Clients), e.start, p.Duration.D()+timeout)
	rec.windowClients = make([]atomic.Int64, len(e.windows))
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
	workers := make([]*worker, len(rec.shards))
	for i := range workers {
		workers[i] = &worker{e: e, index: i, ctx: reqCtx, inbox: make(chan answer, 1024), senders: pool}
	}
	mine := 0
	for i := range p.Clients {
		if i%e.cfg.Shards != e.cfg.Shard {
			continue
		}
		w := workers[mine%len(workers)]
		w.runners = append(w.runners, e.newRunner(w, i, rec))
		mine++
	}
	var clients sync.WaitGroup
	for _, w := range workers {
		clients.Add(1)
		go func() {
			defer clients.Done()
			w.run(stop, rec)
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
	rec.sample(endedAt, runtime.NumGoroutine())
	var applied []chaos.Applied
	if fleet != nil {
		<-fleetDone
		applied = fleet.Applied()
	}

	res.StartedAt, res.EndedAt = e.start.UTC(), endedAt.UTC()
	res.Partial = partial
	res.Profile = p
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
	applied = append(applied, rec.revocations()...)
	res.Events = eventResults(e.windows, rec.eventClients(), applied)
	reports.Analyze(res)
	return nil
}

// sample closes a timeline bucket every TimelineBucket with the fleet's
// gauges, and a window of the refresh latency series every LatencyWindow.
func (e *Engine) sample(rec *Recorder, stop <-chan struct{}) {
	t := time.NewTicker(TimelineBucket)
	defer t.Stop()
	w := reports.NewHistogram()
	n := 0
	for {
		select {
		case now := <-t.C:
			rec.sample(now, runtime.NumGoroutine())
			if n++; n%int(LatencyWindow/TimelineBucket) == 0 {
				rec.rollLatency(w)
			}
		case <-stop:
			return
		}
	}
}

func shardCount(clients int) int {
	return max(1, min(clients, 4*runtime.GOMAXPROCS(0)))
}

// answer is an Ev*Done event with the timing of its request.
type answer struct {
	r        *runner
	ev       model.Event
	op       op
	intended time.Time
	// sent: the client started the request; wire: it left the device;
	// done: its answer (or failure) came.
	sent, wire, done time.Time
}

// runner is one simulated client as its worker drives it: the model plus
// the chaos around it and its deadlines. It owns no goroutine and no timer.
type runner struct {
	e        *Engine
	w        *worker
	idx, sh  int
	c        *model.Client
	rec      *Recorder
	inflight int
	started  bool
	slot     time.Time                  // its ramp slot
	armed    [model.NumTimers]time.Time // the model's timers, in real time
	heapAt   time.Time                  // its entry in the worker's heap; zero if none

	// Chaos around the client.
	link    *chaos.Link
	life    *chaos.Lifecycle
	lifeAt  time.Time // next foreground/background switch; zero if none
	cold    bool      // the app will be killed during this background gap
	changes []chaos.ClientChange
	next    int    // next change to apply
	offline string // outage mode while offline, "" online
	// restored is closed when the network comes back from a blackhole
	// outage: requests hanging in it go out then.
	restored chan struct{}
	skew     time.Duration // the device clock's error

	valid      bool      // holds a valid token, as last counted in the gauge
	expireAt   time.Time // when that token expires (real time); zero if none
	refreshing int       // refreshes of this client in flight

	// suspended: this background gap is long enough (SuspendAfter) that
	// the OS suspends the app and its connections die.
	suspended bool
}

// worker drives a share of the fleet from one goroutine: a heap of the
// clients' next deadlines under a single timer, and one inbox for the
// answers to their requests. Clients cost memory, not goroutines.
type worker struct {
	e        *Engine
	index    int // also its recorder shard
	ctx      context.Context
	runners  []*runner
	heap     deadlines
	inbox    chan answer
	inflight int
	timer    *time.Timer
	wake     time.Time      // what the timer is set for; zero if stopped
	buf      []model.Action // the actions of the client stepping now
	senders  *senders       // the engine's; nil: a goroutine per request
}

func (e *Engine) newRunner(w *worker, idx int, rec *Recorder) *runner {
	p := e.cfg.Profile
	return &runner{
		e: e, w: w, idx: idx, sh: w.shard(), rec: rec,
		c:       model.NewClient(&e.ccfg, p.Seed, idx),
		slot:    e.start.Add(rampOffset(p.Seed, idx, p.Clients, p.Ramp.D())),
		link:    chaos.NewLink(p, idx),
		life:    chaos.NewLifecycle(p, idx),
		changes: chaos.ClientChanges(p, e.windows, idx),
	}
}

func (w *worker) shard() int { return w.index }

// run drives the worker's clients until stop closes and every request of
// theirs has been answered.
func (w *worker) run(stop <-chan struct{}, rec *Recorder) {
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	defer w.timer.Stop()
	for _, r := range w.runners {
		w.push(r)
	}
	w.rearm()
	for {
		select {
		case <-w.timer.C:
			w.wake = time.Time{}
			w.fireDue(time.Now())
			w.rearm()
		case a := <-w.inbox:
			w.inflight--
			a.r.inflight--
			a.r.settle(a)
			w.push(a.r)
			w.rearm()
		case <-stop:
			stop = nil
			now := time.Now()
			for _, r := range w.runners {
				r.stop(now)
			}
			w.timer.Stop()
			w.wake = time.Time{}
		}
		if stop == nil && w.inflight == 0 {
			for _, r := range w.runners {
				rec.finished(r.sh, r.c.SessionStatus())
			}
			return
		}
	}
}

// fireDue runs every client whose deadline has come, earliest first.
func (w *worker) fireDue(now time.Time) {
	for len(w.heap) > 0 && !w.heap[0].at.After(now) {
		d := w.heap.pop()
		r := d.r
		if !d.at.Equal(r.heapAt) {
			continue // superseded by a later push
		}
		r.heapAt = time.Time{}
		r.fire(now)
		w.push(r)
	}
}

// push records r's next deadline in the heap, if it changed.
func (w *worker) push(r *runner) {
	_, at := r.earliest()
	if at.IsZero() || at.Equal(r.heapAt) {
		return
	}
	r.heapAt = at
	w.heap.push(deadline{at: at, r: r})
}

// rearm points the worker's timer at the earliest deadline.
func (w *worker) rearm() {
	for len(w.heap) > 0 && !w.heap[0].at.Equal(w.heap[0].r.heapAt) {
		w.heap.pop() // drop superseded entries from the top
	}
	var at time.Time
	if len(w.heap) > 0 {
		at = w.heap[0].at
	}
	if at.Equal(w.wake) {
		return
	}
	w.timer.Stop()
	w.wake = at
	if !at.IsZero() {
		w.timer.Reset(time.Until(at))
	}
}

// fire handles whatever of r is due by now: its start, then its timers,
// lifecycle switches and fleet-event changes, earliest first.
func (r *runner) fire(now time.Time) {
	if !r.started {
		if now.Before(r.slot) {
			return
		}
		r.started = true
		r.rec.started.Add(1)
		r.rec.lag(r.sh, now.Sub(r.slot))
		r.step(now, model.Event{Kind: model.EvStart, At: r.slot})
		if r.life != nil {
			r.lifeAt = now.Add(r.life.Foreground())
		}
	}
	r.fireDue(now)
}

// stop ends r's part in the run: the model stops and nothing more is due.
func (r *runner) stop(now time.Time) {
	r.step(now, model.Event{Kind: model.EvStop})
	r.lifeAt, r.next = time.Time{}, len(r.changes)
	r.started = true // a client whose slot never came does not start now
	r.heapAt = time.Time{}
	if r.c.Background() {
		r.rec.background.Add(-1)
	}
	if r.offline != "" {
		r.rec.offline.Add(-1)
	}
}

// deadline is one entry of a worker's heap.
type deadline struct {
	at time.Time
	r  *runner
}

// deadlines is a binary min-heap by time.
type deadlines []deadline

func (h *deadlines) push(d deadline) {
	*h = append(*h, d)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].at.Before(s[p].at) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *deadlines) pop() deadline {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = deadline{}
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].at.Before(s[m].at) {
			m = l
		}
		if l+1 < len(s) && s[l+1].at.Before(s[m].at) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// due kinds besides the model's timers.
const (
	dueLife   = -1
	dueChange = -2
	dueExpiry = -3
	dueStart  = -4
)

// earliest is the next deadline: a model timer (its kind), the lifecycle
// switch (dueLife) or a client change (dueChange).
func (r *runner) earliest() (int, time.Time) {
	if !r.started {
		return dueStart, r.slot
	}
	k, at := 0, time.Time{}
	for i, t := range r.armed {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			k, at = i, t
		}
	}
	if !r.lifeAt.IsZero() && (at.IsZero() || r.lifeAt.Before(at)) {
		k, at = dueLife, r.lifeAt
	}
	if r.next < len(r.changes) {
		if t := r.e.start.Add(r.changes[r.next].At); at.IsZero() || t.Before(at) {
			k, at = dueChange, t
		}
	}
	if !r.expireAt.IsZero() && (at.IsZero() || r.expireAt.Before(at)) {
		k, at = dueExpiry, r.expireAt
	}
	return k, at
}

// fireDue handles everything due by now, earliest first.
func (r *runner) fireDue(now time.Time) {
	if r.c.Phase() == model.PhaseIdle {
		return
	}
	for {
		k, at := r.earliest()
		if at.IsZero() || at.After(now) {
			return
		}
		switch k {
		case dueLife:
			r.switchLife(now)
		case dueChange:
			r.applyChange(now, r.changes[r.next])
			r.next++
		case dueExpiry:
			r.expireAt = time.Time{}
			r.countValid(now)
		default:
			r.armed[k] = time.Time{}
			r.rec.lag(r.sh, now.Sub(at))
			r.step(now, model.Event{Kind: model.EvTimer, Timer: model.TimerKind(k), At: at})
		}
	}
}

// switchLife moves the app between foreground and background.
func (r *runner) switchLife(now time.Time) {
	if r.c.Background() {
		r.rec.background.Add(-1)
		if r.cold || r.suspended {
			r.dropConns()
		}
		r.step(now, model.Event{Kind: model.EvForeground, ColdStart: r.cold})
		r.lifeAt = now.Add(r.life.Foreground())
		return
	}
	var gap time.Duration
	gap, r.cold = r.life.Background()
	r.suspended = gap >= r.e.cfg.Profile.Scale(profiles.Duration(transport.SuspendAfter))
	r.step(now, model.Event{Kind: model.EvBackground})
	if r.c.Background() {
		r.rec.background.Add(1)
	}
	r.lifeAt = now.Add(gap)
}

// applyChange carries out a fleet event's effect on this client.
func (r *runner) applyChange(now time.Time, ch chaos.ClientChange) {
	switch ch.Kind {
	case chaos.ChangeOffline:
		r.rec.windowClients[ch.Window].Add(1)
		if r.offline == "" {
			r.rec.offline.Add(1)
		}
		r.offline = ch.Mode
		r.dropConns() // the network went away: so did the connections
		if ch.Mode == profiles.OutageBlackhole && r.restored == nil {
			r.restored = make(chan struct{})
		}
		r.step(now, model.Event{Kind: model.EvOffline})
	case chaos.ChangeOnline:
		if r.offline != "" {
			r.rec.offline.Add(-1)
		}
		r.offline = ""
		if r.restored != nil {
			close(r.restored)
			r.restored = nil
		}
		r.step(now, model.Event{Kind: model.EvOnline})
	case chaos.ChangeRevoke:
		if sid := r.c.SessionID(); sid != "" && r.c.Phase() == model.PhaseSignedIn {
			r.rec.windowClients[ch.Window].Add(1)
			r.e.revoke(r.w.ctx, ch.Window, sid)
		}
	case chaos.ChangeSkew:
		if ch.Skew != 0 {
			r.rec.windowClients[ch.Window].Add(1)
		}
		r.skew = ch.Skew
	}
}

// dropConns closes the client's idle connections, if it has its own: its
// next request dials again.
func (r *runner) dropConns() {
	if r.e.cfg.Conns != nil {
		r.e.cfg.Conns.Drop(r.idx)
	}
}

// settle feeds an answer to the client after recording it.
func (r *runner) settle(a answer) {
	if a.op == opRefresh {
		r.refreshing--
	}
	r.rec.answered(r.sh, a.op, a.ev.Outcome.Class, a.wire, a.done, a.done.Sub(a.intended), a.done.Sub(a.sent))
	r.step(time.Now(), a.ev)
}

// step feeds ev to the client in device time (real time plus the device
// clock's error) and carries out its actions in real time.
func (r *runner) step(now time.Time, ev model.Event) {
	before := r.c.Phase()
	if r.e.cfg.ObserveEvent != nil {
		r.e.cfg.ObserveEvent(r.idx, now, ev)
	}
	if !ev.At.IsZero() {
		ev.At = ev.At.Add(r.skew)
	}
	acts := r.c.StepInto(r.w.buf, now.Add(r.skew), ev)
	r.w.buf = acts
	r.phaseChanged(before, r.c.Phase())
	defer r.countValid(now)
	for i := range acts {
		a := &acts[i]
		if r.e.cfg.Observe != nil {
			r.e.cfg.Observe(r.idx, now, *a)
		}
		if !a.At.IsZero() {
			a.At = a.At.Add(-r.skew)
		}
		switch a.Kind {
		case model.ActSetTimer:
			r.armed[a.Timer] = a.At
		case model.ActCancelTimer:
			r.armed[a.Timer] = time.Time{}
		case model.ActRecord:
			r.rec.metric(r.sh, now, a)
		case model.ActSignIn, model.ActRefresh, model.ActAPI:
			r.send(*a)
		}
	}
}

// countValid keeps the fleet's valid-token gauge and this client's expiry
// deadline in step with the client.
func (r *runner) countValid(now time.Time) {
	v := r.c.Phase() != model.PhaseStopped && r.c.ValidToken(now.Add(r.skew))
	if v != r.valid {
		r.valid = v
		if v {
			r.rec.validToken.Add(1)
		} else {
			r.rec.validToken.Add(-1)
		}
	}
	r.expireAt = time.Time{}
	if v {
		r.expireAt = r.c.TokenExpiry().Add(-r.skew)
	}
}

func (r *runner) phaseChanged(before, after model.Phase) {
	if before == after {
		return
	}
	if before == model.PhaseSignedIn {
		r.rec.signedIn.Add(-1)
	}
	if before == model.PhaseSignedOut {
		r.rec.signedOut.Add(-1)
	}
	if after == model.PhaseSignedIn {
		r.rec.signedIn.Add(1)
	}
	if after == model.PhaseSignedOut {
		r.rec.signedOut.Add(1)
	}
}

// send starts one request: on a pooled sender when the worker has them and
// the client's network lets it straight out, else in its own goroutine. Its
// answer comes back through the inbox, whatever happens.
func (r *runner) send(a model.Action) {
	r.inflight++
	r.w.inflight++
	var o op
	switch a.Kind {
	case model.ActSignIn:
		o = opSignIn
	case model.ActRefresh:
		o = opRefresh
	default:
		o = opAPI
	}
	sent := time.Now()
	r.rec.sent(o)
	if o == opRefresh {
		if r.refreshing > 0 {
			r.rec.duplicates.Add(1)
		}
		if a.Attempt > 0 {
			r.rec.retries.Add(1)
		}
		r.refreshing++
	}
	j := job{r: r, a: a, op: o, sent: sent, deadline: sent.Add(r.e.cfg.Profile.SDK.RequestTimeout.D())}
	// The network decides first, from the worker's goroutine, so draws
	// stay seeded.
	offline, restored := r.offline, r.restored
	delay, lost := r.link.Plan(chaos.RequestBytes, chaos.ResponseBytes)
	if offline == "" && delay <= 0 && !lost && r.w.senders != nil {
		r.w.senders.submit(j)
		return
	}
	go func() {
		ctx, cancel := context.WithDeadline(r.w.ctx, j.deadline)
		defer cancel()
		ctx = transport.WithClient(ctx, r.idx)
		if out, cut := linkFails(ctx, offline, restored, delay, lost); cut {
			now := time.Now()
			r.w.inbox <- answer{r: r, ev: model.Event{Kind: j.kind(), Req: a.Req, Outcome: out}, op: o, intended: a.At, sent: sent, wire: now, done: now}
			return
		}
		wire := time.Now()
		ev := j.exchange(ctx)
		r.w.inbox <- answer{r: r, ev: ev, op: o, intended: a.At, sent: sent, wire: wire, done: time.Now()}
	}()
}

// revoke has the target revoke one session for fleet event window, in the
// background: an admin call, not a request of the client's.
func (e *Engine) revoke(ctx context.Context, window int, sid string) {
	e.admin.Add(1)
	go func() {
		defer e.admin.Done()
		err := chaos.ErrNoAdmin
		if e.cfg.Admin != nil {
			err = e.cfg.Admin.Revoke(ctx, sid)
		}
		e.rec.Load().revoked(window, err)
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

// rampOffset is client idx's start within the ramp: linear across the fleet,
// with each client placed at a seeded random point inside its own slot so the
// fleet does not start in lockstep.
func rampOffset(seed uint64, idx, clients int, ramp time.Duration) time.Duration {
	if ramp <= 0 || clients <= 0 {
		return 0
	}
	u := float64(splitmix(seed^uint64(idx)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	return time.Duration(math.Floor((float64(idx) + u) / float64(clients) * float64(ramp)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
