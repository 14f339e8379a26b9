package load

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load/driver"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
)

// job is one request a client started, waiting to be made.
type job struct {
	w      *worker
	client int // in the fleet
	slot   int // in the worker's driver
	req    driver.Request
}

// answer is the Answer to j: ev, on the wire at wire, answered at done.
func (j job) answer(ev model.Event, wire, done time.Time) driver.Answer {
	return driver.Answer{Client: j.client, Slot: j.slot, Event: ev, Op: j.req.Op, Intended: j.req.Action.At, Sent: j.req.Sent, Wire: wire, Done: done, TokenSeq: j.req.Action.TokenSeq}
}

// kind is the event that answers j.
func (j job) kind() model.EventKind {
	switch j.req.Action.Kind {
	case model.ActSignIn:
		return model.EvSignInDone
	case model.ActRefresh:
		return model.EvRefreshDone
	}
	return model.EvAPIDone
}

// exchange makes j's request against the target under ctx and returns the
// event that answers it.
func (j job) exchange(ctx context.Context) model.Event {
	a := &j.req.Action
	ev := model.Event{Kind: j.kind(), Req: a.Req}
	cfg := &j.w.e.cfg
	switch a.Kind {
	case model.ActSignIn:
		var cr target.Credentials
		cr, ev.Outcome = cfg.Auth.SignIn(ctx, "user-"+strconv.Itoa(j.client))
		ev.SessionID, ev.ClientToken, ev.Token, ev.ExpiresAt, ev.Times = cr.SessionID, cr.ClientToken, cr.Token, cr.ExpiresAt, cr.Times
	case model.ActRefresh:
		var cr target.Credentials
		cr, ev.Outcome = cfg.Auth.Refresh(ctx, a.SessionID, a.ClientToken)
		ev.Token, ev.ClientToken, ev.ExpiresAt, ev.Times = cr.Token, cr.ClientToken, cr.ExpiresAt, cr.Times
	default:
		ev.Outcome = cfg.Resource.Call(target.WithCallID(ctx, j.client, a.Call), a.Token)
	}
	return ev
}

// senders is the engine's pool of sender goroutines: at most max requests
// on the wire, the rest queued in order. A sender that answers one takes the
// oldest queued request at once; idle senders wait for work on wake. Each
// answer is delivered by its sender to the worker whose client made the
// request, and the first request that answer starts goes out on the same
// sender (unless older ones are queued), with no goroutine hand-off.
type senders struct {
	max  int
	wake chan job // to idle senders; holds at most max

	mu      sync.Mutex
	spawned int   // sender goroutines running
	idle    int   // of them, waiting on wake and not yet handed a job
	queue   []job // waiting for a sender, oldest first
	head    int   // queue[head:] are waiting
	queued  int64 // requests that had to wait, in all
}

func newSenders(max int) *senders {
	// Buffered: handing a job to an idle sender never waits for that
	// sender to be scheduled (the worker would, and its clients with it).
	return &senders{max: max, wake: make(chan job, max)}
}

// submit hands j to an idle sender, starts one if fewer than max run, or
// queues j.
func (s *senders) submit(j job) {
	s.mu.Lock()
	switch {
	case s.idle > 0:
		s.idle--
		s.mu.Unlock()
		s.wake <- j // never blocks: a sender counted idle will take it
	case s.spawned < s.max:
		s.spawned++
		s.mu.Unlock()
		go s.serve(j)
	default:
		s.queued++
		s.queue = append(s.queue, j)
		s.mu.Unlock()
	}
}

// after returns the job a sender makes after delivering an answer that
// started own: own itself when nothing is queued, else the oldest queued
// job, own joining the queue behind it.
func (s *senders) after(own job) job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == len(s.queue) {
		return own
	}
	s.queued++
	s.queue = append(s.queue, own)
	j := s.queue[s.head]
	s.queue[s.head] = job{}
	s.head++
	return j
}

// next returns the oldest queued job, or marks the caller idle.
func (s *senders) next() (job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == len(s.queue) {
		s.idle++
		return job{}, false
	}
	j := s.queue[s.head]
	s.queue[s.head] = job{}
	s.head++
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	} else if s.head > 1024 && s.head*2 > len(s.queue) {
		s.queue = s.queue[:copy(s.queue, s.queue[s.head:])]
		s.head = 0
	}
	return j, true
}

// queuedTotal is how many requests had to wait.
func (s *senders) queuedTotal() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}

// close ends the idle senders; call it once every request is answered.
func (s *senders) close() { close(s.wake) }

// serve makes requests, j first, until the pool closes. A job whose
// deadline passed while it queued fails at once as a timeout.
func (s *senders) serve(j job) {
	sc := &transport.SenderConn{} // this sender's connection (SenderTransport)
	defer sc.Close()
	for {
		w := j.w
		ctx, cancel := context.WithDeadline(w.ctx, j.req.Deadline)
		ev := j.exchange(transport.WithSenderConn(ctx, sc))
		cancel()
		var own job
		if w.deliver(j.answer(ev, j.req.Sent, time.Now()), &own) {
			j = s.after(own)
			continue
		}
		var ok bool
		if j, ok = s.next(); !ok {
			if j, ok = <-s.wake; !ok {
				return
			}
		}
	}
}
