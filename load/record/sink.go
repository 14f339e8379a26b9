// Package record turns what a fleet did into result.json's figures: HDR
// histograms and counters per shard of clients, fleet gauges sampled into
// the timeline, merged when a snapshot is taken (docs/results.md). Every
// engine (live, simulated, proxy) feeds it the same facts through Sink.
package record

import (
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// Sink takes the facts a client driver records, one at a time, from the
// goroutine that drives shard's clients.
type Sink interface {
	Record(shard int, f Fact)
}

// FactKind says what a Fact records.
type FactKind uint8

// Facts.
const (
	// FactStarted: a client's ramp slot came and it started, Lag late.
	FactStarted FactKind = iota + 1
	// FactLag: scheduled work (a timer) started Lag late.
	FactLag
	// FactSent: a client sent a request for Op; Duplicate says another
	// refresh of its own was in flight, Retry that it retried one.
	FactSent
	// FactAnswered: a request for Op came to Class. It went on the wire at
	// Wire and was answered at Done; Latency runs from its intended start,
	// Service from when the client sent it.
	FactAnswered
	// FactMetric: the client model recorded Action (an ActRecord) at At.
	FactMetric
	// FactGauge: Gauge moved by Delta (+1 or -1).
	FactGauge
	// FactEventClient: fleet event Window acted on a client.
	FactEventClient
	// FactFinished: a client ended the run with session Status.
	FactFinished
	// FactUnsettled: at the end of the run, Client had not settled an API
	// request it issued at At; Action tells its token generations, retries
	// and where it was stuck (model.Client.Unsettled).
	FactUnsettled
	// FactLeft: a shrinking stage took Client out of the fleet at At.
	FactLeft
)

// Gauge is one of the fleet's client counts that the timeline samples.
type Gauge uint8

// Gauges.
const (
	GaugeSignedIn Gauge = iota
	GaugeSignedOut
	GaugeBackground
	GaugeOffline
	GaugeValidToken
)

// Fact is one thing a client driver records. Which fields matter depends
// on Kind.
type Fact struct {
	Kind             FactKind
	Op               Op
	Class            model.ErrorClass
	Gauge            Gauge
	Duplicate, Retry bool
	// Client is the fleet index of the client the fact is about.
	Client           int
	At, Wire, Done   time.Time
	Latency, Service time.Duration
	Lag              time.Duration
	Action           *model.Action
	Delta            int64
	Window           int
	Status           string
	// HTTPStatus, Code and Body are a FactAnswered's answer: its status (0
	// when none came), the server's error code and the head of its body,
	// raw (model.Outcome.Body; the recorder redacts what it keeps).
	HTTPStatus int
	Code, Body string
}

// Record adds one fact of shard's clients to the recording.
func (r *Recorder) Record(shard int, f Fact) {
	if r.stages != nil {
		r.stageFact(f)
	}
	switch f.Kind {
	case FactStarted:
		r.started.Add(1)
		r.lag(shard, f.Lag)
	case FactLag:
		r.lag(shard, f.Lag)
	case FactSent:
		r.sent(f.Op)
		if f.Duplicate {
			r.duplicates.Add(1)
			if f.Action != nil {
				r.sample(shard, &r.shards[shard].samples.DuplicateRefreshes, f.Client, f.At, f.Action)
			}
		}
		if f.Retry {
			r.retries.Add(1)
		}
	case FactAnswered:
		r.answered(shard, f.Op, f.Class, f.HTTPStatus, f.Wire, f.Done, f.Latency, f.Service)
		if f.Class != model.ClassOK {
			r.errorAnswer(shard, f.Op, f.Class, f.HTTPStatus, f.Code, f.Body)
		}
	case FactMetric:
		r.metric(shard, f.Client, f.At, f.Action)
	case FactGauge:
		r.gauge(f.Gauge).Add(f.Delta)
	case FactEventClient:
		r.windowClients[f.Window].Add(1)
	case FactFinished:
		r.finished(shard, f.Status)
	case FactUnsettled:
		r.sample(shard, &r.shards[shard].samples.Lost, f.Client, f.At, f.Action)
	}
}

// gauge is the live counter behind g.
func (r *Recorder) gauge(g Gauge) interface{ Add(int64) int64 } {
	switch g {
	case GaugeSignedIn:
		return &r.signedIn
	case GaugeSignedOut:
		return &r.signedOut
	case GaugeBackground:
		return &r.background
	case GaugeOffline:
		return &r.offline
	}
	return &r.validToken
}
