package reports

import (
	"math"
	"strings"
	"testing"
)

// figuresResult is a result whose figures are consistent.
func figuresResult() *Result {
	return &Result{Schema: Schema, Shard: Shard{Index: 0, Count: 1}, Ops: map[string]*Op{
		OpRefresh: {Count: 10, OK: 7, Errors: map[string]int64{"http_5xx": 2, "network": 1}},
	}}
}

func TestCheckFiguresRefusesWhatNoRunWrites(t *testing.T) {
	if errs := checkFigures(figuresResult()); len(errs) != 0 {
		t.Fatalf("a consistent result refused: %v", errs)
	}
	for _, tc := range []struct {
		name string
		edit func(r *Result)
		want string
	}{
		{"count", func(r *Result) { r.Ops[OpRefresh].Count = 11 }, "ops.refresh: count 11 is not ok 7 + errors 3"},
		{"negative p99", func(r *Result) { r.Ops[OpRefresh].LatencyMs.P99 = -1 }, "ops.refresh.latency_ms.p99: negative"},
		{"negative clients", func(r *Result) { r.Engine.Clients = -5 }, "engine.clients: negative (-5)"},
		{"negative timeline", func(r *Result) { r.Timeline.RefreshAttempts = []int64{1, -1} }, "timeline.refresh_attempts[1]: negative"},
		{"shards", func(r *Result) { r.Shard.Count = 2_000_000_000 }, "shard.count: must be from 1 to 100000"},
		{"overflow", func(r *Result) {
			r.Ops[OpRefresh].Errors = map[string]int64{"a": math.MaxInt64, "b": math.MaxInt64}
		}, "ops.refresh: ok + errors overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := figuresResult()
			tc.edit(r)
			errs := checkFigures(r)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("problems %q, want %q", msgs, tc.want)
			}
		})
	}
	r := figuresResult()
	r.Timeline.RefreshAttempts = make([]int64, 1000)
	for i := range r.Timeline.RefreshAttempts {
		r.Timeline.RefreshAttempts[i] = -1
	}
	if errs := checkFigures(r); len(errs) != maxListed+1 || !strings.Contains(errs[maxListed].Error(), "more problems") {
		t.Errorf("1,000 bad figures gave %d problems: %v", len(errs), errs)
	}
}

func TestCheckSumsRefusesOverflow(t *testing.T) {
	a, b := figuresResult(), figuresResult()
	a.Requests.Issued, b.Requests.Issued = 9e18, 9e18
	err := checkSums([]*Result{a, b})
	if err == nil || !strings.Contains(err.Error(), "requests.issued") {
		t.Fatalf("checkSums = %v", err)
	}
	a.Requests.Issued, b.Requests.Issued = math.MaxInt64-1, 1
	if err := checkSums([]*Result{a, b}); err != nil {
		t.Errorf("a sum of exactly MaxInt64 refused: %v", err)
	}
	// Three that wrap back to a positive number are caught too.
	rs := []*Result{figuresResult(), figuresResult(), figuresResult()}
	for _, r := range rs {
		r.Timeline.RefreshAttempts = []int64{9e18}
	}
	if err := checkSums(rs); err == nil || !strings.Contains(err.Error(), "timeline.refresh_attempts") {
		t.Errorf("three timelines of 9e18: %v", err)
	}
}

func TestMergeListsAFewMissingShards(t *testing.T) {
	r := figuresResult()
	r.Shard = Shard{Index: 0, Count: 50_000}
	_, err := Merge(r)
	if err == nil || !strings.Contains(err.Error(), "missing shard 1/50000, 2/50000") || !strings.Contains(err.Error(), "and 49989 more") {
		t.Fatalf("Merge = %v", err)
	}
	if len(err.Error()) > 400 {
		t.Errorf("%d bytes of message", len(err.Error()))
	}
}
