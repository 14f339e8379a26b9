package record

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// stageRecord is what one stage of a staged run measured.
type stageRecord struct {
	joined, left        int64
	ops                 [numOps]opRecord // count, ok, errors, latency
	statuses            map[string]int64
	retries, duplicates int64
	lag                 *hdrhistogram.Histogram
}

// stages records a staged run's figures per stage, every shard together.
type stages struct {
	mu     sync.Mutex
	layout []reports.Stage
	ends   []time.Duration // each stage's end, from the run's start
	st     []stageRecord
}

// SetStages has r record figures per stage too, for the stages laid out
// by reports.StagesOf; call it before the run starts.
func (r *Recorder) SetStages(layout []reports.Stage) {
	if len(layout) == 0 {
		return
	}
	s := &stages{layout: layout, st: make([]stageRecord, len(layout))}
	for i, l := range layout {
		s.ends = append(s.ends, time.Duration(l.EndS*float64(time.Second)))
		s.st[i].statuses = map[string]int64{}
		s.st[i].lag = reports.NewHistogram()
		for o := range s.st[i].ops {
			s.st[i].ops[o].latency = reports.NewHistogram()
			if o <= int(OpAPI) {
				s.st[i].ops[o].service = reports.NewHistogram()
			}
		}
	}
	r.stages = s
}

// stage is the stage holding t: the first before the run's start, the
// last after its end.
func (s *stages) stage(start, t time.Time) *stageRecord {
	off := t.Sub(start)
	for i, e := range s.ends {
		if off < e {
			return &s.st[i]
		}
	}
	return &s.st[len(s.st)-1]
}

// stageFact counts f in the stage of its time.
func (r *Recorder) stageFact(f Fact) {
	s := r.stages
	at := f.At
	if f.Kind == FactAnswered {
		at = f.Done
	}
	switch f.Kind {
	case FactStarted, FactLag, FactSent, FactAnswered, FactLeft:
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stage(r.start, at)
	switch f.Kind {
	case FactStarted:
		st.joined++
		reports.RecordLatency(st.lag, max(f.Lag, 0))
	case FactLag:
		reports.RecordLatency(st.lag, max(f.Lag, 0))
	case FactLeft:
		st.left++
	case FactSent:
		if f.Retry {
			st.retries++
		}
		if f.Duplicate {
			st.duplicates++
		}
	case FactAnswered:
		rec := &st.ops[f.Op]
		rec.count++
		if f.Class == model.ClassOK {
			rec.ok++
		} else {
			rec.errors[f.Class]++
		}
		st.statuses[reports.StatusKey(f.HTTPStatus)]++
		if f.Class != model.ClassCancelled {
			if !reports.RecordLatency(rec.latency, f.Latency) {
				rec.outOfRange++
			}
			if rec.service != nil {
				reports.RecordLatency(rec.service, f.Service)
			}
		}
	}
}

// fillStages writes each stage's figures into res.Stages.
func (r *Recorder) fillStages(res *reports.Result) {
	s := r.stages
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Stages = make([]reports.Stage, len(s.layout))
	for i, l := range s.layout {
		st := &s.st[i]
		l.Joined, l.Left = st.joined, st.left
		l.Ops = map[string]*reports.Op{}
		for o := range st.ops {
			m := &st.ops[o]
			out := &reports.Op{Count: m.count, OK: m.ok, Errors: map[string]int64{}, OutOfRange: m.outOfRange,
				LatencyMs: reports.Summarize(m.latency)}
			if m.service != nil {
				sum := reports.Summarize(m.service)
				out.ServiceMs = &sum
			}
			for c := model.Class401; c < model.NumClasses; c++ {
				out.Errors[c.String()] = m.errors[c]
			}
			l.Ops[reports.OpNames[o]] = out
		}
		l.ByStatus = map[string]int64{}
		for k, v := range st.statuses {
			l.ByStatus[k] = v
		}
		l.Herd = reports.Herd{Retries: st.retries, DuplicateRefreshes: st.duplicates}
		ls := reports.Summarize(st.lag)
		l.LagMs = reports.LagSummary{P50: ls.P50, P99: ls.P99, Max: ls.Max}
		res.Stages[i] = l
	}
}
