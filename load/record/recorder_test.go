package record

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// The recorder keeps the earliest few requests that broke each invariant,
// per shard and merged, never more.
func TestRecorderKeepsABoundedSampleOfEvidence(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(2, t0, 10*time.Second, 0)
	for i := 19; i >= 0; i-- { // latest first: the sample keeps the earliest whatever the order
		at := t0.Add(time.Duration(i) * time.Second)
		r.Record(i%2, Fact{Kind: FactUnsettled, Client: i, At: at, Action: &model.Action{At: at, Attempt: 1,
			TokenSeq: 2, NewestSeq: 3, State: model.CallQueuedStuck}})
		r.Record(i%2, Fact{Kind: FactMetric, Client: i, At: at.Add(time.Second), Action: &model.Action{Kind: model.ActRecord,
			Metric: model.MetricRetryLoop, At: at, Attempt: 2, TokenSeq: 1, NewestSeq: 1, State: model.CallRetryNoFlag}})
		r.Record(i%2, Fact{Kind: FactSent, Op: OpRefresh, Client: i, At: at, Duplicate: true,
			Action: &model.Action{At: at, TokenSeq: 4, NewestSeq: 4}})
	}
	var res reports.Result
	if err := r.Fill(&res, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	s := res.Samples
	if len(s.Lost) != reports.MaxSamples || len(s.RetryLoops) != reports.MaxSamples || len(s.DuplicateRefreshes) != reports.MaxSamples {
		t.Fatalf("samples %+v", s)
	}
	for i, x := range s.Lost {
		want := reports.RequestSample{Client: i, AtS: float64(i), IssuedS: float64(i), TokenGeneration: 2, NewestGeneration: 3,
			Retries: 1, Interceptor: "queued behind an interceptor flag never reset"}
		if x != want {
			t.Errorf("lost[%d] = %+v, want %+v", i, x, want)
		}
	}
	if x := s.RetryLoops[0]; x.Client != 0 || x.AtS != 1 || x.IssuedS != 0 || x.Retries != 2 || x.Interceptor != model.CallRetryNoFlag.String() {
		t.Errorf("retry loop %+v", x)
	}
	if res.Requests.RetryLoops != 20 || res.Herd.DuplicateRefreshes != 20 {
		t.Errorf("counts: %d retry loops, %d duplicates, want 20 each", res.Requests.RetryLoops, res.Herd.DuplicateRefreshes)
	}
}
