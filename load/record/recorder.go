package record

import (
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// Op is an operation the recorder keeps, indexed like reports.OpNames.
type Op uint8

// Operations.
const (
	OpSignIn Op = iota
	OpRefresh
	OpAPI
	OpGetToken
	OpForegroundRecovery
	numOps
)

// reservedSpan is how much of the timeline NewRecorder reserves.
const reservedSpan = 10 * time.Minute

// TimelineBucket is the width of one timeline bucket.
const TimelineBucket = 100 * time.Millisecond

// Timeline counters kept per shard.
const (
	tlRefreshAttempts = iota
	tlRefreshOK
	tlRefreshErrors
	tlAPICalls
	tlAPI401
	tlForcedSignouts
	numTimelineCounters
)

// opRecord is one operation's counts and histograms in one shard.
type opRecord struct {
	count, ok  int64
	errors     [model.NumClasses]int64
	latency    *hdrhistogram.Histogram
	service    *hdrhistogram.Histogram
	outOfRange int64
	windows    latencyWindows // coarse latencies per time window
}

// shard is the part of the recording one group of clients writes to; its
// lock is taken only by those clients and by snapshots.
type shard struct {
	mu       sync.Mutex
	ops      [numOps]opRecord
	lag      *hdrhistogram.Histogram
	window   *hdrhistogram.Histogram // refresh latency since the last live snapshot
	timeline [][numTimelineCounters]int64
	requests reports.Requests
	forced   int64
	resigns  int64
	signIns  signInCounts
	statuses map[string]int64
	samples  reports.Samples // the earliest few of each kind
	answers  [numOps]map[answerKey]*answerCount
}

// Gauges sampled at the end of each timeline bucket.
const (
	gInflightPeak = iota
	gSignedIn
	gSignedOut
	gBackground
	gOffline
	gValidToken
	numGauges
)

// Recorder collects what a run measured: HDR histograms and counters per
// shard of clients, merged when a snapshot is taken, plus fleet gauges
// sampled into the timeline.
type Recorder struct {
	start    time.Time
	shards   []*shard
	winWidth time.Duration // of the operations' latency windows

	// Live totals and gauges, read by progress output and the sampler.
	started         atomic.Int64
	signedIn        atomic.Int64
	signedOut       atomic.Int64
	background      atomic.Int64
	offline         atomic.Int64
	validToken      atomic.Int64
	duplicates      atomic.Int64
	retries         atomic.Int64
	refreshes       atomic.Int64
	refreshErrors   atomic.Int64
	apiCalls        atomic.Int64
	refreshInflight atomic.Int64
	inflightPeak    atomic.Int64

	// frozen is the fleet as it was when the run began to stop (Freeze).
	frozen atomic.Pointer[Live]

	// windowClients counts, per fleet event, the clients it acted on.
	windowClients []atomic.Int64

	rmu     sync.Mutex
	revokes map[int]*chaos.Applied // per revocation wave: sessions revoked, first error

	// Refresh latency per LatencyWindow, rolled by the sampler.
	lastP99 atomic.Int64 // of the last window, in ns
	latency reports.LatencySeries

	gmu     sync.Mutex
	gauges  [][numGauges]int64 // per bucket
	maxGoro int

	// stages, if set (SetStages), records figures per stage of a staged run.
	stages *stages
}

// NewRecorder returns a recorder with n shards whose timeline starts at start
// and is sized for about span of run, for a plan with that many fleet events.
func NewRecorder(n int, start time.Time, span time.Duration, events int) *Recorder {
	r := &Recorder{start: start, shards: make([]*shard, n), windowClients: make([]atomic.Int64, events), winWidth: latencyWindowWidth(span)}
	// The timeline grows as the run goes: only its first minutes are
	// reserved, so a long --duration costs memory as it passes, not up front.
	buckets := int(min(max(span, 0), reservedSpan)/TimelineBucket) + 1
	for i := range r.shards {
		s := &shard{
			lag:      reports.NewHistogram(),
			window:   reports.NewHistogram(),
			timeline: make([][numTimelineCounters]int64, 0, buckets),
			statuses: map[string]int64{},
		}
		for o := range s.ops {
			s.ops[o].latency = reports.NewHistogram()
			if o <= int(OpAPI) {
				s.ops[o].service = reports.NewHistogram()
			}
		}
		r.shards[i] = s
	}
	return r
}

func (r *Recorder) bucket(t time.Time) int {
	b := int(t.Sub(r.start) / TimelineBucket)
	return max(b, 0)
}

func (s *shard) tl(b, counter int) {
	for len(s.timeline) <= b {
		s.timeline = append(s.timeline, [numTimelineCounters]int64{})
	}
	s.timeline[b][counter]++
}

// sent notes that a client started a request: live totals and the
// fleet's refreshes in flight.
func (r *Recorder) sent(o Op) {
	switch o {
	case OpRefresh:
		r.refreshes.Add(1)
		n := r.refreshInflight.Add(1)
		for {
			p := r.inflightPeak.Load()
			if n <= p || r.inflightPeak.CompareAndSwap(p, n) {
				break
			}
		}
	case OpAPI:
		r.apiCalls.Add(1)
	}
}

// answered records a request's outcome. The timeline counts the attempt
// when it went on the wire (later than sent when the network held it back,
// as in a blackhole outage), latency runs from its intended start, service
// from the moment the client sent it.
func (r *Recorder) answered(sh int, o Op, class model.ErrorClass, status int, wire, done time.Time, latency, service time.Duration) {
	s := r.shards[sh]
	if o == OpRefresh {
		r.refreshInflight.Add(-1)
		if class != model.ClassOK {
			r.refreshErrors.Add(1)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch o {
	case OpRefresh:
		s.tl(r.bucket(wire), tlRefreshAttempts)
	case OpAPI:
		s.tl(r.bucket(wire), tlAPICalls)
	}
	rec := &s.ops[o]
	rec.count++
	if class == model.ClassOK {
		rec.ok++
	} else {
		rec.errors[class]++
	}
	if class == model.ClassCancelled {
		return // no answer came: there is no latency to record
	}
	if !reports.RecordLatency(rec.latency, latency) {
		rec.outOfRange++
	}
	rec.windows.add(r.window(done), latency)
	if rec.service != nil {
		reports.RecordLatency(rec.service, service)
	}
	switch o {
	case OpRefresh:
		reports.RecordLatency(s.window, latency)
		if class == model.ClassOK {
			s.tl(r.bucket(done), tlRefreshOK)
		} else {
			s.tl(r.bucket(done), tlRefreshErrors)
		}
	case OpAPI:
		if class == model.Class401 || (class == model.ClassSuperseded && status == 401) {
			s.tl(r.bucket(done), tlAPI401)
		}
	}
}

// lag records how late scheduled work started.
func (r *Recorder) lag(sh int, d time.Duration) {
	s := r.shards[sh]
	s.mu.Lock()
	reports.RecordLatency(s.lag, max(d, 0))
	s.mu.Unlock()
}

// metric records an ActRecord of the client model taken at now.
func (r *Recorder) metric(sh, client int, now time.Time, a *model.Action) {
	s := r.shards[sh]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch a.Metric {
	case model.MetricGetToken, model.MetricForegroundRecovery:
		o := OpGetToken
		if a.Metric == model.MetricForegroundRecovery {
			o = OpForegroundRecovery
		}
		rec := &s.ops[o]
		rec.count++
		if a.OK {
			rec.ok++
		} else {
			rec.errors[a.Class]++
			s.addAnswer(o, a.Class, 0, a.Code, "")
		}
		if a.Class != model.ClassCancelled {
			if !reports.RecordLatency(rec.latency, a.Latency) {
				rec.outOfRange++
			}
			rec.windows.add(r.window(now), a.Latency)
		}
	case model.MetricRequestIssued:
		s.requests.Issued++
	case model.MetricRequestSettled:
		s.requests.Settled++
		switch {
		case a.OK:
			s.requests.OK++
		case a.Class == model.ClassCancelled:
			s.requests.Cancelled++
		default:
			s.requests.UserVisibleErrors++
		}
	case model.MetricRetryLoop:
		s.requests.RetryLoops++
		s.samples.RetryLoops = reports.AddSample(s.samples.RetryLoops, r.requestSample(client, now, a))
	case model.MetricStaleRetry:
		s.requests.StaleTokenRetries++
		s.samples.StaleTokenRetries = reports.AddSample(s.samples.StaleTokenRetries, r.requestSample(client, now, a))
	case model.MetricForcedSignOut:
		s.forced++
		s.signIns.forced(a.Code)
		s.tl(r.bucket(now), tlForcedSignouts)
	case model.MetricSignInCancelled:
		s.signIns.cancelled++
	case model.MetricSignInFlowFailed:
		s.signIns.flowFailed++
	case model.MetricReSignIn:
		s.resigns++
	}
}

// requestSample is the evidence a's fields give of a request of client
// that broke an invariant at now.
func (r *Recorder) requestSample(client int, now time.Time, a *model.Action) reports.RequestSample {
	issued := a.At
	if issued.IsZero() {
		issued = now
	}
	return reports.RequestSample{Client: client, AtS: r.seconds(now), IssuedS: r.seconds(issued),
		TokenGeneration: a.TokenSeq, NewestGeneration: a.NewestSeq, Retries: a.Attempt, Interceptor: a.State.String()}
}

// seconds is t in seconds from the start of the run, to the microsecond.
func (r *Recorder) seconds(t time.Time) float64 {
	return float64(t.Sub(r.start).Round(time.Microsecond)) / float64(time.Second)
}

// sample keeps, in shard sh's list, the evidence of a request of client
// at that broke an invariant.
func (r *Recorder) sample(sh int, list *[]reports.RequestSample, client int, at time.Time, a *model.Action) {
	s := r.shards[sh]
	x := r.requestSample(client, at, a)
	s.mu.Lock()
	*list = reports.AddSample(*list, x)
	s.mu.Unlock()
}

// finished records a client's last session status.
func (r *Recorder) finished(sh int, status string) {
	s := r.shards[sh]
	s.mu.Lock()
	s.statuses[status]++
	s.mu.Unlock()
}

// Sample closes the timeline bucket that ends at t with the fleet's gauges.
func (r *Recorder) Sample(t time.Time, goroutines int) {
	b := r.bucket(t.Add(-time.Nanosecond))
	peak := r.inflightPeak.Swap(r.refreshInflight.Load())
	r.gmu.Lock()
	defer r.gmu.Unlock()
	for len(r.gauges) <= b {
		r.gauges = append(r.gauges, [numGauges]int64{})
	}
	r.gauges[b] = [numGauges]int64{peak, r.signedIn.Load(), r.signedOut.Load(), r.background.Load(), r.offline.Load(), r.validToken.Load()}
	r.maxGoro = max(r.maxGoro, goroutines)
}

// Revoked counts one session revoked (or not: err) by a revocation wave.
func (r *Recorder) Revoked(window int, err error) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	if r.revokes == nil {
		r.revokes = map[int]*chaos.Applied{}
	}
	a := r.revokes[window]
	if a == nil {
		a = &chaos.Applied{Window: window}
		r.revokes[window] = a
	}
	if err != nil {
		if a.Err == nil {
			a.Err = err
		}
		return
	}
	a.Affected++
}

// Revocations is what the revocation waves did, one entry per wave.
func (r *Recorder) Revocations() []chaos.Applied {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	out := make([]chaos.Applied, 0, len(r.revokes))
	for _, a := range r.revokes {
		out = append(out, *a)
	}
	return out
}

// EventClients is, per fleet event, how many clients it acted on.
func (r *Recorder) EventClients() []int64 {
	out := make([]int64, len(r.windowClients))
	for i := range r.windowClients {
		out[i] = r.windowClients[i].Load()
	}
	return out
}

// Live is a cheap view of a running test for progress output.
type Live struct {
	Started, SignedIn, SignedOut int64
	Refreshes, RefreshErrors     int64
	APICalls                     int64
	RefreshInflight              int64
	Background, Offline          int64
	// RecentRefreshP99 is the refresh p99 of the last LatencyWindow.
	RecentRefreshP99 time.Duration
}

// LatencyWindow is the width of the refresh latency series' windows.
const LatencyWindow = time.Second

// RollLatency closes a LatencyWindow of refresh latencies into the series.
func (r *Recorder) RollLatency(w *hdrhistogram.Histogram) {
	w.Reset()
	for _, s := range r.shards {
		s.mu.Lock()
		w.Merge(s.window)
		s.window.Reset()
		s.mu.Unlock()
	}
	sum := reports.Summarize(w)
	r.lastP99.Store(int64(sum.P99 * float64(time.Millisecond)))
	r.gmu.Lock()
	r.latency.P50 = append(r.latency.P50, sum.P50)
	r.latency.P99 = append(r.latency.P99, sum.P99)
	r.latency.Max = append(r.latency.Max, sum.Max)
	r.gmu.Unlock()
}

// Live returns current totals and the refresh p99 of the last LatencyWindow;
// once the run began to stop (Freeze), the fleet's clients as they were
// then.
func (r *Recorder) Live() Live {
	l := r.live()
	if f := r.frozen.Load(); f != nil {
		l.Started, l.SignedIn, l.SignedOut, l.Background, l.Offline = f.Started, f.SignedIn, f.SignedOut, f.Background, f.Offline
	}
	return l
}

func (r *Recorder) live() Live {
	return Live{
		Started: r.started.Load(), SignedIn: r.signedIn.Load(), SignedOut: r.signedOut.Load(),
		Refreshes: r.refreshes.Load(), RefreshErrors: r.refreshErrors.Load(),
		APICalls: r.apiCalls.Load(), RefreshInflight: r.refreshInflight.Load(),
		Background: r.background.Load(), Offline: r.offline.Load(),
		RecentRefreshP99: time.Duration(r.lastP99.Load()),
	}
}

// Fill writes everything recorded into res: ops, sessions, requests, the
// engine's lag and the timeline up to end.
func (r *Recorder) Fill(res *reports.Result, end time.Time) error {
	var merged [numOps]opRecord
	var answers [numOps][]reports.ErrorAnswer
	for o := range merged {
		merged[o].latency = reports.NewHistogram()
		if o <= int(OpAPI) {
			merged[o].service = reports.NewHistogram()
		}
	}
	lag := reports.NewHistogram()
	statuses := map[string]int64{}
	var req reports.Requests
	var forced, resigns int64
	var signIns signInCounts
	res.Samples = reports.Samples{}
	nb := r.bucket(end.Add(-time.Nanosecond)) + 1
	tl := make([][numTimelineCounters]int64, nb)
	for _, s := range r.shards {
		s.mu.Lock()
		for o := range merged {
			m, x := &merged[o], &s.ops[o]
			m.count += x.count
			m.ok += x.ok
			m.outOfRange += x.outOfRange
			for c := range m.errors {
				m.errors[c] += x.errors[c]
			}
			m.outOfRange += m.latency.Merge(x.latency)
			if m.service != nil {
				m.service.Merge(x.service)
			}
			m.windows.merge(x.windows)
			answers[o] = reports.AddErrorAnswers(answers[o], errorAnswers(s.answers[o]))
		}
		lag.Merge(s.lag)
		for k, v := range s.statuses {
			statuses[k] += v
		}
		req.Add(s.requests) // Lost stays 0 in the shards
		res.Samples.Merge(s.samples)
		forced += s.forced
		resigns += s.resigns
		signIns.add(s.signIns)
		for b := 0; b < len(s.timeline) && b < nb; b++ {
			for c := range tl[b] {
				tl[b][c] += s.timeline[b][c]
			}
		}
		s.mu.Unlock()
	}
	res.Ops = map[string]*reports.Op{}
	for o := range merged {
		m := &merged[o]
		out := &reports.Op{Count: m.count, OK: m.ok, Errors: map[string]int64{}, OutOfRange: m.outOfRange,
			LatencyMs: reports.Summarize(m.latency), Windows: reports.NewOpWindows(r.winWidth, m.windows.byWindow()), ErrorAnswers: answers[o]}
		for c := model.Class401; c < model.NumClasses; c++ {
			out.Errors[c.String()] = m.errors[c]
		}
		var err error
		if out.HDR, err = reports.EncodeHistogram(m.latency); err != nil {
			return err
		}
		if m.service != nil {
			sum := reports.Summarize(m.service)
			out.ServiceMs = &sum
			if out.ServiceHDR, err = reports.EncodeHistogram(m.service); err != nil {
				return err
			}
		}
		res.Ops[reports.OpNames[o]] = out
	}
	req.Lost = req.Issued - req.Settled
	res.Requests = req
	res.Sessions = reports.Sessions{ByStatus: statuses, ForcedSignouts: forced, ReSignIns: resigns}
	signIns.fill(&res.Sessions)
	ls := reports.Summarize(lag)
	res.Engine.LagMs = reports.LagSummary{P50: ls.P50, P99: ls.P99, Max: ls.Max}

	t := reports.Timeline{BucketMs: int(TimelineBucket / time.Millisecond)}
	series := []*[]int64{&t.RefreshAttempts, &t.RefreshOK, &t.RefreshErrors, &t.APICalls, &t.API401,
		&t.ForcedSignouts, &t.RefreshInflight, &t.SignedIn, &t.SignedOut, &t.Background, &t.Offline, &t.ValidToken}
	for _, p := range series {
		*p = make([]int64, nb)
	}
	for b := range tl {
		t.RefreshAttempts[b] = tl[b][tlRefreshAttempts]
		t.RefreshOK[b] = tl[b][tlRefreshOK]
		t.RefreshErrors[b] = tl[b][tlRefreshErrors]
		t.APICalls[b] = tl[b][tlAPICalls]
		t.API401[b] = tl[b][tlAPI401]
		t.ForcedSignouts[b] = tl[b][tlForcedSignouts]
	}
	r.gmu.Lock()
	for b := 0; b < len(r.gauges) && b < nb; b++ {
		g := r.gauges[b]
		t.RefreshInflight[b] = g[gInflightPeak]
		t.SignedIn[b] = g[gSignedIn]
		t.SignedOut[b] = g[gSignedOut]
		t.Background[b] = g[gBackground]
		t.Offline[b] = g[gOffline]
		t.ValidToken[b] = g[gValidToken]
	}
	res.Engine.Goroutines = r.maxGoro
	t.RefreshLatencyMs = reports.LatencySeries{WindowMs: int(LatencyWindow / time.Millisecond),
		P50: append([]float64{}, r.latency.P50...), P99: append([]float64{}, r.latency.P99...),
		Max: append([]float64{}, r.latency.Max...)}
	r.gmu.Unlock()
	res.Timeline = t
	res.Herd.Retries = r.retries.Load()
	res.Herd.DuplicateRefreshes = r.duplicates.Load()
	r.fillStages(res)
	return nil
}
