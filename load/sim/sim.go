// Package sim is stampede simulate's discrete-event simulator
// (docs/simulate.md): it drives the fleet through the same clock-free
// client driver (load/driver) as the live engine, in virtual time, against
// a modelled backend whose endpoints are queues with c servers. One
// goroutine, one event heap beside the driver's, no wall clock, no
// sockets: the same profile and seed give the same result.
package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// epoch is the virtual instant every simulation starts at: a fixed one,
// so that result.json's times do not depend on when it ran.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Epoch returns the virtual instant every simulation starts at.
func Epoch() time.Time { return epoch }

// Config is one simulation.
type Config struct {
	// Profile is the valid profile in simulated time: its time scale 1
	// (see Simulated), its duration the simulated time to cover.
	Profile profiles.Profile
	// Service, if set, replaces the service-time distribution of an
	// endpoint by the one calibrated from a live run (see Calibrate),
	// keyed by operation name (reports.OpSignIn, OpRefresh, OpAPI).
	Service map[string]Calibrated
	// Progress, if set, is called from the simulating goroutine about
	// every ProgressEvery events with the simulated time reached and the
	// events processed so far.
	Progress func(simulated time.Duration, events int64)
	// Measure fills the wall-clock figures of result.json's engine.sim
	// (events per second, bytes per client): they differ from one run to
	// the next, so a result with them is not byte-identical.
	Measure bool
	// Partitions splits the simulation into that many partitions, each a
	// share of the fleet against a share of the backend, run concurrently
	// and merged (partition.go); 0 and 1 run one simulation.
	Partitions int
	// Workers bounds the partitions simulated at once; 0 is GOMAXPROCS.
	// It changes how long a partitioned simulation takes, never its result.
	Workers int
}

// ProgressEvery is how many events pass between two calls of
// Config.Progress (a power of two times 65,536).
const ProgressEvery = 1 << 22

// Simulated returns p in simulated time: the durations a live run would
// cover at p's time scale (duration and ramp × time scale) with a time
// scale of 1, so that every duration of the profile is simulated time.
func Simulated(p profiles.Profile) profiles.Profile {
	s := max(p.TimeScale, 1)
	p.Duration = profiles.Duration(float64(p.Duration) * s)
	p.Ramp = profiles.Duration(float64(p.Ramp) * s)
	p.TimeScale = 1
	return p
}

// request is a request on its way: through the client's network, in an
// endpoint's queue or on a server, until its client has its answer and
// the server is done with it.
type request struct {
	client, slot int32
	op           record.Op
	kind         model.ActionKind
	ep           uint8
	state        uint8
	serving      bool // holds a server (the client may have given up)
	held         bool // held by a blackhole outage
	gen          uint32
	req          uint64
	intended     time.Time
	sent, wire   int64
	deadline     int64
	sessionID    string
	clientToken  string
	token        string
}

// heldRef is a request held by a blackhole outage: its index and its
// generation, since a request that timed out meanwhile gave its slot to
// another.
type heldRef struct{ r, gen uint32 }

// Request states.
const (
	rqFree     uint8 = iota
	rqNet            // in the client's network (delayed, lost or held)
	rqQueued         // waiting for a server
	rqServing        // on a server, its client waiting
	rqAnswered       // its client has its answer (it may still hold a server)
	rqRemoved        // left the queue (abandoned or shed); freed when the queue passes it
)

// sim is one simulation's state.
type sim struct {
	p        profiles.Profile
	d        *driver.Driver
	rec      *record.Recorder
	be       *backend
	eps      [numEndpoints]*endpoint
	heap     events
	seq      uint64
	now      int64
	reqs     []request
	free     []uint32
	held     map[int32][]heldRef
	rng      *rand.Rand
	todo     []driver.Output
	windows  []chaos.Window
	steps    []fleetStep
	active   map[int]bool
	applied  []chaos.Applied
	n        int64 // events processed
	head     int   // of todo
	progress func(time.Duration, int64)
	scratch  *hdrhistogram.Histogram
}

// Run simulates cfg.Profile and fills res as a live run's result, with
// Mode simulate and engine.sim. It returns ctx's error if ctx ends first.
func Run(ctx context.Context, cfg Config, res *reports.Result) error {
	p := cfg.Profile
	if err := p.Validate(); err != nil {
		return fmt.Errorf("invalid profile: %w", err)
	}
	if p.TimeScale != 1 {
		return fmt.Errorf("simulate needs the profile in simulated time (time scale 1, see Simulated), got %g", p.TimeScale)
	}
	if cfg.Partitions > 1 {
		return runPartitions(ctx, cfg, res)
	}
	wallStart := time.Now()
	var heapBefore runtime.MemStats
	if cfg.Measure {
		runtime.GC()
		runtime.ReadMemStats(&heapBefore)
	}
	s := newSim(cfg, 0, 1)
	if err := s.loop(ctx); err != nil {
		return err
	}
	var heapAfter runtime.MemStats
	if cfg.Measure {
		runtime.ReadMemStats(&heapAfter)
		sys := heapAfter.Sys
		runtime.GC() // what the fleet and the backend hold, not garbage
		runtime.ReadMemStats(&heapAfter)
		heapAfter.Sys = sys
	}
	if err := s.fill(res); err != nil {
		return err
	}
	if cfg.Measure {
		wall := time.Since(wallStart).Seconds()
		res.Engine.Sim.WallS = wall
		res.Engine.Sim.EventsPerSecond = float64(s.n) / wall
		res.Engine.Sim.BytesPerClient = float64(heapAfter.HeapInuse-min(heapBefore.HeapInuse, heapAfter.HeapInuse)) / float64(p.Clients)
		res.Engine.MaxRSSBytes = int64(heapAfter.Sys)
	}
	return nil
}

// newSim is partition part of parts (0 of 1: the whole simulation): the
// clients whose fleet index is part modulo parts, against that share of the
// backend (partition.go), with the backend's draws seeded per partition.
func newSim(cfg Config, part, parts int) *sim {
	p := cfg.Profile
	windows := chaos.Plan(p)
	span := p.Duration.D() + p.SDK.RequestTimeout.D()
	indices := make([]int, 0, (p.Clients-part+parts-1)/parts)
	for i := part; i < p.Clients; i += parts {
		indices = append(indices, i)
	}
	s := &sim{
		p: p, rec: record.NewRecorder(1, epoch, span, len(windows)),
		be:      newBackend(p, len(indices), p.Seed, uint64(part)),
		held:    map[int32][]heldRef{},
		rng:     rand.New(rand.NewPCG(p.Seed, 0x73696d756c617465+uint64(part))),
		windows: windows, active: map[int]bool{}, progress: cfg.Progress,
		scratch: reports.NewHistogram(),
	}
	m := partitionModel(Resolve(p.BackendModel), part, parts)
	for i, em := range []profiles.EndpointModel{m.SignIn, m.Refresh, m.API} {
		var svc serviceTime = distService(em.Service)
		if c, ok := cfg.Service[endpointNames[i]]; ok {
			svc = c
		}
		s.eps[i] = newEndpoint(em, svc)
	}
	ccfg := model.NewClientConfig(p)
	s.d = driver.New(driver.Config{Profile: p, Model: &ccfg, Windows: windows, Start: epoch, Sink: s.rec}, indices)
	s.planFleet()
	for t := record.TimelineBucket; t <= p.Duration.D(); t += record.TimelineBucket {
		s.schedule(int64(t), evSample, 0, 0)
	}
	return s
}

func (s *sim) schedule(at int64, k evKind, ref, gen uint32) {
	s.seq++
	s.heap.push(event{at: at, seq: s.seq, kind: k, ref: ref, gen: gen})
}

// loop runs the simulation: the earliest of the driver's next deadline and
// the event heap's top, until the end of the run and the drain after it.
func (s *sim) loop(ctx context.Context) error {
	end := int64(s.p.Duration.D())
	for stopped := false; ; {
		if s.n&0xffff == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if s.progress != nil && s.n > 0 && s.n%ProgressEvery == 0 {
				s.progress(time.Duration(s.now), s.n)
			}
		}
		dAt, dOK := s.d.Next()
		dn := int64(0)
		if dOK {
			dn = dAt.Sub(epoch).Nanoseconds()
		}
		hOK := len(s.heap) > 0
		switch {
		case !stopped && (!hOK || s.heap[0].at >= end) && (!dOK || dn >= end):
			stopped = true
			s.now = end
			s.be.now = end
			s.closeFleet()
			s.carryOut(s.d.Stop(s.at(end)))
			continue
		case !hOK && (stopped || !dOK):
			s.d.Finish()
			return nil
		case dOK && !stopped && (!hOK || dn < s.heap[0].at):
			s.n++
			s.now = dn
			s.be.now = dn
			s.carryOut(s.d.Advance(dAt))
			continue
		}
		e := s.heap.pop()
		s.n++
		s.now = e.at
		s.be.now = e.at
		s.handle(e)
		s.carryOut(nil)
	}
}

func (s *sim) at(ns int64) time.Time { return epoch.Add(time.Duration(ns)) }

// carryOut does what the driver asked, and what the answers it feeds back
// ask in turn.
func (s *sim) carryOut(outs []driver.Output) {
	s.todo = append(s.todo, outs...)
	for s.head < len(s.todo) {
		o := s.todo[s.head]
		s.head++
		switch o.Kind {
		case driver.OutSend:
			s.send(o)
		case driver.OutRelease:
			s.release(int32(o.Client))
		case driver.OutRevoke:
			s.rec.Revoked(o.Window, s.be.Revoke(context.Background(), o.SessionID))
		case driver.OutPending:
			s.rec.Revoked(o.Window, s.be.SetPending(context.Background(), o.SessionID, o.Task))
		case driver.OutCompleteTask:
			if err := s.be.CompleteTask(context.Background(), o.SessionID); err != nil {
				s.rec.Revoked(o.Window, err)
			}
		case driver.OutEnd:
			if s.be.end(o.SessionID, o.ClientToken) {
				s.rec.Revoked(o.Window, nil)
			}
		}
	}
	s.todo, s.head = s.todo[:0], 0
}

func (s *sim) alloc() uint32 {
	if n := len(s.free); n > 0 {
		r := s.free[n-1]
		s.free = s.free[:n-1]
		return r
	}
	s.reqs = append(s.reqs, request{})
	return uint32(len(s.reqs) - 1)
}

func (s *sim) release1(r uint32) {
	q := &s.reqs[r]
	gen := q.gen + 1
	*q = request{gen: gen}
	s.free = append(s.free, r)
}

// send puts a request on the client's network.
func (s *sim) send(o driver.Output) {
	r := s.alloc()
	q := &s.reqs[r]
	a := &o.Action
	*q = request{client: int32(o.Client), slot: int32(o.Slot), op: o.Op, kind: a.Kind, gen: q.gen, state: rqNet,
		req: a.Req, intended: a.At, sent: o.Sent.Sub(epoch).Nanoseconds(), deadline: o.Deadline.Sub(epoch).Nanoseconds(),
		sessionID: a.SessionID, clientToken: a.ClientToken, token: a.Token}
	switch a.Kind {
	case model.ActSignIn:
		q.ep = epSignIn
	case model.ActRefresh:
		q.ep = epRefresh
	default:
		q.ep = epAPI
	}
	switch {
	case o.Offline == profiles.OutageFailFast:
		s.answer(r, model.Outcome{Class: model.ClassNetwork, Code: "offline"}, s.now)
	case o.Offline != "":
		q.held = true
		s.held[q.client] = append(s.held[q.client], heldRef{r, q.gen})
		s.schedule(q.deadline, evTimeout, r, q.gen)
	case o.Lost:
		s.schedule(q.deadline, evTimeout, r, q.gen)
	case s.now+int64(o.Delay) >= q.deadline:
		s.schedule(q.deadline, evTimeout, r, q.gen)
	case o.Delay <= 0:
		s.arrive(r) // no network delay: it reaches the endpoint now
	default:
		s.schedule(s.now+int64(o.Delay), evArrive, r, q.gen)
	}
}

// release sends a client's requests held by a blackhole outage: they go
// out now, as the live engine's do.
func (s *sim) release(client int32) {
	for _, h := range s.held[client] {
		q := &s.reqs[h.r]
		if q.gen == h.gen && q.state == rqNet && q.held {
			q.held = false
			s.schedule(s.now, evArrive, h.r, q.gen)
		}
	}
	delete(s.held, client)
}

func (s *sim) handle(e event) {
	switch e.kind {
	case evSample:
		s.rec.Sample(s.at(e.at), 1)
		if e.at%int64(record.LatencyWindow) == 0 {
			s.rec.RollLatency(s.scratch)
		}
		return
	case evFleet:
		s.fleetStep(int(e.ref))
		return
	}
	q := &s.reqs[e.ref]
	if q.gen != e.gen {
		return // the request ended and its slot went to another
	}
	r := e.ref
	switch e.kind {
	case evArrive:
		if q.state == rqNet {
			s.arrive(r)
		}
	case evAdmit:
		if q.state == rqNet {
			s.admit(r)
		}
	case evDone:
		ep := s.eps[q.ep]
		ep.busy--
		q.serving = false
		// The backend does the work whether or not its client still
		// waits (a sign-in creates a session, a refresh rotates the
		// client token), as the embedded backend's handlers do.
		ev := s.backendAnswer(q)
		if q.state == rqServing {
			s.deliver(r, ev, s.now)
		} else {
			s.release1(r)
		}
		s.startNext(ep)
	case evCheck:
		if q.state != rqQueued {
			return
		}
		ep := s.eps[q.ep]
		q.state = rqRemoved
		ep.queued--
		if s.now >= q.deadline {
			ep.stats.Abandoned++
			s.answerKeep(q, model.Outcome{Class: model.ClassTimeout}, s.now)
			return
		}
		ep.stats.ShedWait++
		s.answerKeep(q, overloaded(ep), s.now)
	case evTimeout:
		switch q.state {
		case rqNet, rqServing:
			s.answer(r, model.Outcome{Class: model.ClassTimeout}, s.now)
		}
	}
}

func overloaded(ep *endpoint) model.Outcome {
	return model.Outcome{Class: model.Class5xx, Status: 503, Code: "overloaded", RetryAfter: ep.retryAfter}
}

// arrive brings a request to its endpoint: a brownout's latency first
// (refresh), then admission.
func (s *sim) arrive(r uint32) {
	q := &s.reqs[r]
	q.wire = s.now
	if q.ep == epRefresh {
		if lat := int64(s.be.faults.TokenLatency); lat > 0 {
			if s.now+lat >= q.deadline {
				s.schedule(q.deadline, evTimeout, r, q.gen)
				return
			}
			s.schedule(s.now+lat, evAdmit, r, q.gen)
			return
		}
	}
	s.admit(r)
}

// admit asks the request's endpoint for a server: the token faults first
// (refresh), then a free server, a place in the queue, or shed.
func (s *sim) admit(r uint32) {
	q := &s.reqs[r]
	ep := s.eps[q.ep]
	ep.stats.Arrived++
	if q.ep == epRefresh {
		if out, ok := s.be.tokenFault(); ok {
			s.answer(r, out, s.now)
			return
		}
	}
	if ep.busy < ep.servers {
		s.serve(r, ep)
		return
	}
	if ep.queued >= ep.maxQueue {
		ep.stats.ShedFull++
		s.answer(r, overloaded(ep), s.now)
		return
	}
	q.state = rqQueued
	ep.enqueue(r)
	s.schedule(min(q.deadline, s.now+ep.queueWait), evCheck, r, q.gen)
}

// serve puts a request on a server of ep.
func (s *sim) serve(r uint32, ep *endpoint) {
	q := &s.reqs[r]
	ep.busy++
	svc := ep.service.draw(s.rng)
	ep.busyNs += svc
	q.state, q.serving = rqServing, true
	done := s.now + svc
	if done > q.deadline {
		s.schedule(q.deadline, evTimeout, r, q.gen)
	}
	s.schedule(done, evDone, r, q.gen)
}

// startNext gives a freed server of ep to the oldest request waiting.
func (s *sim) startNext(ep *endpoint) {
	for ep.busy < ep.servers {
		r, ok := ep.dequeue(func(r uint32) bool {
			if s.reqs[r].state == rqRemoved {
				s.release1(r)
				return true
			}
			return false
		})
		if !ok {
			return
		}
		s.serve(r, ep)
	}
}

// backendAnswer is what the modelled backend answers to q now.
func (s *sim) backendAnswer(q *request) model.Event {
	ev := model.Event{Req: q.req}
	s.eps[q.ep].stats.Served++
	switch q.kind {
	case model.ActSignIn:
		ev.Kind = model.EvSignInDone
		s.be.signIn(int(q.slot), &ev) // the client's place in this partition's backend
	case model.ActRefresh:
		ev.Kind = model.EvRefreshDone
		s.be.refresh(q.sessionID, q.clientToken, &ev)
	default:
		ev.Kind = model.EvAPIDone
		ev.Outcome = s.be.api(q.token)
	}
	return ev
}

func evKindOf(k model.ActionKind) model.EventKind {
	switch k {
	case model.ActSignIn:
		return model.EvSignInDone
	case model.ActRefresh:
		return model.EvRefreshDone
	}
	return model.EvAPIDone
}

// answer ends a request with out for its client, freeing it unless a
// server still holds it.
func (s *sim) answer(r uint32, out model.Outcome, at int64) {
	q := &s.reqs[r]
	s.deliver(r, model.Event{Kind: evKindOf(q.kind), Req: q.req, Outcome: out}, at)
}

// answerKeep answers a request that stays in its endpoint's queue until
// the queue passes it.
func (s *sim) answerKeep(q *request, out model.Outcome, at int64) {
	s.feed(q, model.Event{Kind: evKindOf(q.kind), Req: q.req, Outcome: out}, at)
}

func (s *sim) deliver(r uint32, ev model.Event, at int64) {
	q := &s.reqs[r]
	s.feed(q, ev, at)
	q.state = rqAnswered
	if !q.serving {
		s.release1(r)
	}
}

// feed gives the client its answer.
func (s *sim) feed(q *request, ev model.Event, at int64) {
	wire := q.wire
	if wire == 0 {
		wire = at
	}
	outs := s.d.Answer(s.at(at), driver.Answer{Client: int(q.client), Slot: int(q.slot), Event: ev, Op: q.op,
		Intended: q.intended, Sent: s.at(q.sent), Wire: s.at(wire), Done: s.at(at)})
	s.todo = append(s.todo, outs...)
}

// fill writes the result: the recorder's figures, the events and
// engine.sim.
func (s *sim) fill(res *reports.Result) error {
	p := s.p
	end := s.at(int64(p.Duration.D()))
	res.Mode = reports.ModeSimulate
	res.StartedAt, res.EndedAt = epoch, s.at(max(s.now, int64(p.Duration.D())))
	res.Profile = p
	res.TimeScale = reports.TimeScaleOf(p)
	res.Engine.Clients = len(s.be.latest) // this partition's clients
	res.Shard = reports.Shard{Index: 0, Count: 1}
	s.rec.Sample(res.EndedAt, 1)
	if err := s.rec.Fill(res, end); err != nil {
		return err
	}
	res.Engine.Goroutines = 1
	applied := append(s.applied, s.rec.Revocations()...)
	res.Events = eventResults(s.windows, s.rec.EventClients(), applied)
	res.Sessions.ServerByStatus = s.be.byStatus()
	sim := &reports.Sim{EventsProcessed: s.n, SimulatedS: p.Duration.D().Seconds(), Backend: map[string]reports.SimEndpoint{}}
	for i, ep := range s.eps {
		st := ep.stats
		if span := float64(max(s.now, 1)) * float64(ep.servers); span > 0 {
			st.Utilisation = float64(ep.busyNs) / span
		}
		sim.Backend[endpointNames[i]] = st
	}
	res.Engine.Sim = sim
	reports.Analyze(res)
	return nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
