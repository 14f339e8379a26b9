package record

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// Every failed answer is counted by class, status and code in the shard
// that saw it; merged, the breakdown of each operation adds up to its
// errors, keeps the first sample, and stays bounded however many codes a
// server makes up.
func TestRecorderBreaksErrorsDownByWhatTheServerSaid(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(2, t0, 10*time.Second, 0)
	answer := func(sh int, o Op, class model.ErrorClass, status int, code, body string) {
		r.Record(sh, Fact{Kind: FactAnswered, Op: o, Class: class, HTTPStatus: status, Code: code, Body: body,
			Wire: t0, Done: t0.Add(time.Millisecond), Latency: time.Millisecond, Service: time.Millisecond})
	}
	for i := range 25 {
		answer(i%2, OpRefresh, model.Class401, 401, "invalid_grant", fmt.Sprintf(`{"error":"invalid_grant","n":%d}`, i))
	}
	for i := range 7 {
		answer(i%2, OpRefresh, model.ClassOK, 200, "", "")
		answer(i%2, OpRefresh, model.ClassTimeout, 0, "", "")
	}
	for i := range 3 * reports.MaxErrorAnswers {
		answer(i%2, OpAPI, model.ClassOther, 400, fmt.Sprintf("made_up_%d", i), "")
	}
	answer(0, OpSignIn, model.ClassOther, 400, "invalid_request", `{"error":"invalid_request","refresh_token":"rt-secret-0123456789abcdefghij"}`)
	r.Record(0, Fact{Kind: FactMetric, At: t0, Action: &model.Action{Kind: model.ActRecord, Metric: model.MetricGetToken,
		Class: model.ClassNetwork, Code: "offline"}})
	var res reports.Result
	if err := r.Fill(&res, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	ref := res.Ops[reports.OpRefresh]
	if len(ref.ErrorAnswers) != 2 {
		t.Fatalf("refresh answers %+v", ref.ErrorAnswers)
	}
	top := ref.ErrorAnswers[0]
	if top.Label() != "401 invalid_grant" || top.Count != 25 || top.Class != "http_401" || top.Sample != `{"error":"invalid_grant","n":0}` {
		t.Errorf("top refresh answer %+v", top)
	}
	if a := ref.ErrorAnswers[1]; a.Label() != "timeout" || a.Count != 7 {
		t.Errorf("second refresh answer %+v", a)
	}
	for _, name := range reports.OpNames {
		o := res.Ops[name]
		var sum int64
		for _, a := range o.ErrorAnswers {
			sum += a.Count
			if o.Errors[a.Class] == 0 {
				t.Errorf("%s: answer %+v of a class without errors", name, a)
			}
		}
		if sum != o.ErrorCount() {
			t.Errorf("%s: answers add up to %d, errors to %d", name, sum, o.ErrorCount())
		}
	}
	if api := res.Ops[reports.OpAPI]; len(api.ErrorAnswers) > reports.MaxErrorAnswers+1 {
		t.Errorf("api keeps %d kinds, want at most %d", len(api.ErrorAnswers), reports.MaxErrorAnswers+1)
	}
	if si := res.Ops[reports.OpSignIn].ErrorAnswers; len(si) != 1 || strings.Contains(si[0].Sample, "rt-secret") || !strings.Contains(si[0].Sample, "invalid_request") {
		t.Errorf("sign_in answers %+v: want the sample kept, its token redacted", si)
	}
	if gt := res.Ops[reports.OpGetToken].ErrorAnswers; len(gt) != 1 || gt[0].Label() != "network offline" {
		t.Errorf("get_token answers %+v", gt)
	}
}

// Once frozen, Live shows the fleet as it was before the stop, while the
// counters of the requests still finishing go on.
func TestLiveShowsTheFleetAsItWasBeforeTheStop(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(1, t0, time.Second, 0)
	for range 50 {
		r.Record(0, Fact{Kind: FactStarted})
		r.Record(0, Fact{Kind: FactGauge, Gauge: GaugeSignedIn, Delta: 1})
	}
	r.Freeze()
	for range 50 { // the stop: every client leaves
		r.Record(0, Fact{Kind: FactGauge, Gauge: GaugeSignedIn, Delta: -1})
	}
	r.Record(0, Fact{Kind: FactSent, Op: OpRefresh})
	if l := r.Live(); l.SignedIn != 50 || l.Started != 50 || l.Refreshes != 1 {
		t.Errorf("live after the stop %+v: want 50 signed in, 50 started, 1 refresh", l)
	}
}
