package record

import (
	"maps"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// Forced sign-outs are counted by cause across shards, with the users who
// cancelled a sign-in and the sign-in flows that failed.
func TestRecorderCountsSignOutsByCauseAndSignInFlows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(2, t0, 10*time.Second, 0)
	rec := func(sh int, m model.Metric, code string) {
		r.Record(sh, Fact{Kind: FactMetric, Client: sh, At: t0.Add(time.Second), Action: &model.Action{Kind: model.ActRecord, Metric: m, Code: code}})
	}
	for sh := range 2 {
		rec(sh, model.MetricForcedSignOut, "session_abandoned")
		rec(sh, model.MetricForcedSignOut, "session_expired")
		rec(sh, model.MetricSignInCancelled, "")
	}
	rec(0, model.MetricForcedSignOut, "session_abandoned")
	rec(1, model.MetricForcedSignOut, "") // a 401 that named nothing
	rec(1, model.MetricSignInFlowFailed, "")
	var res reports.Result
	if err := r.Fill(&res, t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	s := res.Sessions
	want := map[string]int64{"session_abandoned": 3, "session_expired": 2, "signed_out": 1}
	if !maps.Equal(s.ForcedSignoutsByCause, want) || s.ForcedSignouts != 6 || s.SignInsCancelled != 2 || s.SignInFlowFailures != 1 {
		t.Errorf("sessions %+v, want by cause %v of 6, 2 cancelled, 1 failed flow", s, want)
	}
}
