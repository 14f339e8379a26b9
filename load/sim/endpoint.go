package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// Endpoints of the modelled backend, in BackendModel order.
const (
	epSignIn = iota
	epRefresh
	epAPI
	numEndpoints
)

// endpointNames name the endpoints in result.json's engine.sim.backend.
var endpointNames = [numEndpoints]string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI}

// Defaults of an endpoint model's zero fields (docs/simulate.md).
var defaultEndpoints = [numEndpoints]profiles.EndpointModel{
	epSignIn:  {Servers: 32, Service: profiles.Dist{Dist: profiles.DistLognormal, Value: profiles.Duration(20 * time.Millisecond), Sigma: 0.5}, MaxQueue: 1024, QueueWait: profiles.Duration(2 * time.Second)},
	epRefresh: {Servers: 64, Service: profiles.Dist{Dist: profiles.DistLognormal, Value: profiles.Duration(4 * time.Millisecond), Sigma: 0.5}, MaxQueue: 1024, QueueWait: profiles.Duration(2 * time.Second)},
	epAPI:     {Servers: 256, Service: profiles.Dist{Dist: profiles.DistLognormal, Value: profiles.Duration(2 * time.Millisecond), Sigma: 0.5}, MaxQueue: 4096, QueueWait: profiles.Duration(2 * time.Second)},
}

// Resolve fills the zero fields of m with the defaults (docs/simulate.md).
func Resolve(m profiles.BackendModel) profiles.BackendModel {
	eps := [numEndpoints]*profiles.EndpointModel{&m.SignIn, &m.Refresh, &m.API}
	for i, e := range eps {
		d := defaultEndpoints[i]
		if e.Servers == 0 {
			e.Servers = d.Servers
		}
		if e.Service.IsZero() {
			e.Service = d.Service
		}
		if e.MaxQueue == 0 {
			e.MaxQueue = d.MaxQueue
		}
		if e.QueueWait == 0 {
			e.QueueWait = d.QueueWait
		}
	}
	return m
}

// serviceTime draws one request's service time.
type serviceTime interface {
	draw(rng *rand.Rand) int64
	String() string
}

// distService is a profile distribution.
type distService profiles.Dist

func (d distService) draw(rng *rand.Rand) int64 {
	v := float64(d.Value)
	switch d.Dist {
	case profiles.DistExponential:
		v *= rng.ExpFloat64()
	case profiles.DistChoice:
		if n := len(d.Values); n > 0 {
			v = float64(d.Values[rng.IntN(n)])
		}
	case profiles.DistLognormal:
		v *= math.Exp(d.Sigma * rng.NormFloat64())
	}
	return max(int64(v), 1)
}

func (d distService) String() string {
	if d.Dist == profiles.DistLognormal {
		return "lognormal " + d.Value.String() + " σ " + ftoa(d.Sigma)
	}
	return d.Dist + " " + d.Value.String()
}

// endpoint is one endpoint of the modelled backend: c servers and a
// bounded FIFO wait queue.
type endpoint struct {
	servers   int
	maxQueue  int
	queueWait int64
	service   serviceTime
	// retryAfter is the Retry-After of a shed request: queue_wait in whole
	// seconds rounded up, at least 1, as the embedded backend sends.
	retryAfter time.Duration

	busy   int
	queue  []uint32 // request indices, oldest first from head
	head   int
	queued int // live requests in queue (abandoned ones are skipped)

	busyNs int64 // server time spent, for utilisation
	stats  reports.SimEndpoint
}

func newEndpoint(m profiles.EndpointModel, svc serviceTime) *endpoint {
	w := m.QueueWait.D()
	return &endpoint{
		servers: m.Servers, maxQueue: m.MaxQueue, queueWait: int64(w), service: svc,
		retryAfter: max(1, (w+time.Second-1)/time.Second) * time.Second,
		stats:      reports.SimEndpoint{Servers: m.Servers, MaxQueue: m.MaxQueue, QueueWait: float64(w) / 1e6, Service: svc.String()},
	}
}

func (e *endpoint) enqueue(r uint32) {
	if e.head > 0 && e.head == len(e.queue) {
		e.queue, e.head = e.queue[:0], 0
	}
	e.queue = append(e.queue, r)
	e.queued++
	e.stats.PeakQueue = max(e.stats.PeakQueue, int64(e.queued))
	if e.head > 4096 && e.head*2 > len(e.queue) { // compact the consumed front
		n := copy(e.queue, e.queue[e.head:])
		e.queue, e.head = e.queue[:n], 0
	}
}

// dequeue takes the oldest request still waiting; ok false when none is.
// skip reports whether an entry was abandoned (and frees it).
func (e *endpoint) dequeue(skip func(uint32) bool) (uint32, bool) {
	for e.head < len(e.queue) {
		r := e.queue[e.head]
		e.head++
		if skip(r) {
			continue
		}
		e.queued--
		return r, true
	}
	return 0, false
}
