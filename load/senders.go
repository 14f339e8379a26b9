package load

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
)

// job is one request a client started, waiting to be made.
type job struct {
	r        *runner
	a        model.Action
	op       op
	sent     time.Time
	deadline time.Time // sent plus the request timeout
}

// kind is the event that answers j.
func (j job) kind() model.EventKind {
	switch j.a.Kind {
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
	ev := model.Event{Kind: j.kind(), Req: j.a.Req}
	cfg := &j.r.e.cfg
	switch j.a.Kind {
	case model.ActSignIn:
		var cr target.Credentials
		cr, ev.Outcome = cfg.Auth.SignIn(ctx, "user-"+strconv.Itoa(j.r.idx))
		ev.SessionID, ev.ClientToken, ev.Token, ev.ExpiresAt, ev.Times = cr.SessionID, cr.ClientToken, cr.Token, cr.ExpiresAt, cr.Times
	case model.ActRefresh:
		var cr target.Credentials
		cr, ev.Outcome = cfg.Auth.Refresh(ctx, j.a.SessionID, j.a.ClientToken)
		ev.Token, ev.ClientToken, ev.ExpiresAt, ev.Times = cr.Token, cr.ClientToken, cr.ExpiresAt, cr.Times
	default:
		ev.Outcome = cfg.Resource.Call(ctx, j.a.Token)
	}
	return ev
}

// senders is the engine's pool of sender goroutines: at most max requests
// on the wire, the rest queued in order. A sender that answers one takes the
// oldest queued request at once; idle senders wait for work on wake. Each
// answer goes to the inbox of the worker whose client made the request.
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
		w := j.r.w
		ctx, cancel := context.WithDeadline(w.ctx, j.deadline)
		ev := j.exchange(transport.WithSenderConn(ctx, sc))
		cancel()
		w.inbox <- answer{r: j.r, ev: ev, op: j.op, intended: j.a.At, sent: j.sent, wire: j.sent, done: time.Now()}
		var ok bool
		if j, ok = s.next(); !ok {
			if j, ok = <-s.wake; !ok {
				return
			}
		}
	}
}
