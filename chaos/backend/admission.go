package backend

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Admission control defaults (see Config.MaxInflight).
const (
	// DefaultInflightPerCPU × GOMAXPROCS is the default Config.MaxInflight:
	// token signing is CPU-bound, so a few requests per CPU keep every core
	// busy without piling up work in progress.
	DefaultInflightPerCPU = 4
	// DefaultMaxQueue is the default Config.MaxQueue: as many requests as
	// stampede run's shared connection pool can have outstanding, so a run
	// against its own embedded backend fills the queue only past that.
	DefaultMaxQueue = 1024
	// DefaultQueueWait is the default Config.QueueWait: well under the
	// 10 s request timeout of stampede's clients, so no request is worked
	// on after its client has given up.
	DefaultQueueWait = 2 * time.Second
)

// CodeOverloaded is the error code of a request shed by admission control:
// status 503 with a Retry-After header.
const CodeOverloaded = "overloaded"

// Shed reasons, as in the /metrics reason label.
const (
	ShedQueueFull = "queue_full" // the wait queue was full on arrival
	ShedQueueWait = "queue_wait" // no slot freed within Config.QueueWait
)

// AdmissionStats is what admission control holds and has done.
type AdmissionStats struct {
	// MaxInflight and MaxQueue are the configured bounds.
	MaxInflight int `json:"max_inflight"`
	MaxQueue    int `json:"max_queue"`
	// Inflight and Queued are the requests being handled and waiting now;
	// the peaks are their highest values so far.
	Inflight     int64 `json:"inflight"`
	Queued       int64 `json:"queued"`
	InflightPeak int64 `json:"inflight_peak"`
	QueuedPeak   int64 `json:"queued_peak"`
	// ShedQueueFull and ShedQueueWait count the requests answered 503
	// "overloaded", by reason.
	ShedQueueFull int64 `json:"shed_queue_full"`
	ShedQueueWait int64 `json:"shed_queue_wait"`
}

// admitResult is what admission decided for a request.
type admitResult int

const (
	admitted     admitResult = iota // the request holds a slot; release it
	shedFull                        // the queue was full
	shedWait                        // the request waited QueueWait in vain
	admitAborted                    // the request's context ended while it waited
)

// admissionTrace observes admission control; tests set it before the
// backend serves. Nil fields are skipped.
type admissionTrace struct {
	enter  func() // a request took a slot; its handler runs once enter returns
	leave  func() // its handler returned; the slot is released next
	queued func() // a request started to wait for a slot
	shed   func() // a request was shed
}

// admission bounds the requests handled at once (slots) and the requests
// waiting for a slot (queue), each wait bounded by wait. A slot freed goes
// to the longest-waiting request first: the channel hands it to the first
// blocked sender.
type admission struct {
	slots      chan struct{}
	queue      chan struct{}
	wait       time.Duration
	retryAfter string // Retry-After of shed requests, whole seconds
	trace      *admissionTrace

	inflight, queued         atomic.Int64
	inflightPeak, queuedPeak atomic.Int64
	shedFull, shedWait       atomic.Int64
}

// newAdmission returns admission control for maxInflight handled and
// maxQueue waiting requests, each waiting at most wait.
func newAdmission(maxInflight, maxQueue int, wait time.Duration) *admission {
	return &admission{
		slots:      make(chan struct{}, maxInflight),
		queue:      make(chan struct{}, maxQueue),
		wait:       wait,
		retryAfter: strconv.FormatInt(int64(max(1, (wait+time.Second-1)/time.Second)), 10),
	}
}

// raise sets peak to n if n is higher.
func raise(peak *atomic.Int64, n int64) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// admit takes a slot for a request, waiting in the queue if none is free.
// Only the result admitted holds a slot, to be given back with release.
func (a *admission) admit(ctx context.Context) admitResult {
	select {
	case a.slots <- struct{}{}:
		a.entered()
		return admitted
	default:
	}
	select {
	case a.queue <- struct{}{}:
	default:
		a.shedFull.Add(1)
		a.traceShed()
		return shedFull
	}
	raise(&a.queuedPeak, a.queued.Add(1))
	defer func() {
		a.queued.Add(-1)
		<-a.queue
	}()
	if a.trace != nil && a.trace.queued != nil {
		a.trace.queued()
	}
	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		a.entered()
		return admitted
	case <-timer.C:
		a.shedWait.Add(1)
		a.traceShed()
		return shedWait
	case <-ctx.Done():
		return admitAborted
	}
}

// entered counts a request that took a slot.
func (a *admission) entered() {
	raise(&a.inflightPeak, a.inflight.Add(1))
	if a.trace != nil && a.trace.enter != nil {
		a.trace.enter()
	}
}

// traceShed reports a shed request to the trace.
func (a *admission) traceShed() {
	if a.trace != nil && a.trace.shed != nil {
		a.trace.shed()
	}
}

// release gives back the slot of an admitted request.
func (a *admission) release() {
	if a.trace != nil && a.trace.leave != nil {
		a.trace.leave()
	}
	a.inflight.Add(-1)
	<-a.slots
}

// stats returns the bounds, gauges and counters.
func (a *admission) stats() AdmissionStats {
	return AdmissionStats{
		MaxInflight:   cap(a.slots),
		MaxQueue:      cap(a.queue),
		Inflight:      a.inflight.Load(),
		Queued:        a.queued.Load(),
		InflightPeak:  a.inflightPeak.Load(),
		QueuedPeak:    a.queuedPeak.Load(),
		ShedQueueFull: a.shedFull.Load(),
		ShedQueueWait: a.shedWait.Load(),
	}
}

// writeOverloaded answers a shed request: 503 "overloaded" with Retry-After.
func (a *admission) writeOverloaded(w http.ResponseWriter, res admitResult) {
	msg := "the backend is at capacity: " + strconv.Itoa(cap(a.slots)) + " requests in flight and " +
		strconv.Itoa(cap(a.queue)) + " waiting; retry after " + a.retryAfter + "s"
	if res == shedWait {
		msg = "the backend is at capacity: no request slot freed within " + a.wait.String() + "; retry after " + a.retryAfter + "s"
	}
	w.Header().Set("Retry-After", a.retryAfter)
	writeError(w, http.StatusServiceUnavailable, CodeOverloaded, msg)
}
