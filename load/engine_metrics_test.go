package load

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// families gathers reg into a map by metric name.
func families(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// sample returns the metric of family name whose labels are exactly
// labels (name, value pairs), failing the test when there is none.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no metric family %s", name)
	}
	for _, m := range mf.GetMetric() {
		var got []string
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName(), lp.GetValue())
		}
		if slices.Equal(got, labels) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, labels)
	return nil
}

// value is the counter or gauge value of one series.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) int64 {
	t.Helper()
	m := sample(t, fams, name, labels...)
	switch {
	case m.Counter != nil:
		return int64(m.Counter.GetValue())
	case m.Gauge != nil:
		return int64(m.Gauge.GetValue())
	}
	t.Fatalf("%s %v is neither a counter nor a gauge", name, labels)
	return 0
}

// TestCollectorFollowsTheRunAndEndsAtItsResult scrapes a fleet's collector
// before, during and after a run with a revocation wave, and holds the last
// scrape against result.json.
func TestCollectorFollowsTheRunAndEndsAtItsResult(t *testing.T) {
	p := fleetProfile(profiles.Event{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.5}, Fraction: 0.25})
	synctest.Test(t, func(t *testing.T) {
		be, err := backend.New(backend.Config{TokenLifetime: p.Scale(p.Backend.TokenLifetime),
			MaxLifetime: p.Scale(p.Backend.MaxLifetime), Signing: "EdDSA", Seed: p.Seed})
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi,
			Admin: &chaos.AdminClient{Base: "http://backend.test", Client: hc}})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewPedanticRegistry() // checks every metric against its description
		reg.MustRegister(eng.Collector())
		if fams := families(t, reg); len(fams) != 0 {
			t.Errorf("before the run: %d metric families, want none", len(fams))
		}

		var res reports.Result
		done := make(chan error, 1)
		go func() { done <- eng.Run(context.Background(), &res) }()
		time.Sleep(p.Ramp.D() + 5*time.Second) // fake time: after the ramp, before the wave
		mid := families(t, reg)
		if got := value(t, mid, "stampede_clients", "state", "started"); got != int64(p.Clients) {
			t.Errorf("mid-run: %d clients started, want %d", got, p.Clients)
		}
		if got := value(t, mid, "stampede_clients", "state", "signed_in"); got != int64(p.Clients) {
			t.Errorf("mid-run: %d clients signed in, want %d", got, p.Clients)
		}
		midRefresh := value(t, mid, "stampede_requests_total", "class", "ok", "op", "refresh")
		if midRefresh == 0 {
			t.Error("mid-run: no refresh counted")
		}
		if got := value(t, mid, "stampede_forced_signouts_total"); got != 0 {
			t.Errorf("mid-run, before the wave: %d forced sign-outs", got)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		end := families(t, reg)
		if got := value(t, end, "stampede_requests_total", "class", "ok", "op", "refresh"); got <= midRefresh {
			t.Errorf("refreshes ok: %d at the end, %d mid-run", got, midRefresh)
		}
		for _, op := range []string{reports.OpSignIn, reports.OpRefresh, reports.OpAPI} {
			o := res.Ops[op]
			if got := value(t, end, "stampede_requests_total", "class", "ok", "op", op); got != o.OK {
				t.Errorf("%s ok: scraped %d, result %d", op, got, o.OK)
			}
			for class, n := range o.Errors {
				if got := value(t, end, "stampede_requests_total", "class", class, "op", op); got != n {
					t.Errorf("%s %s: scraped %d, result %d", op, class, got, n)
				}
			}
			h := sample(t, end, "stampede_request_duration_seconds", "op", op).GetHistogram()
			if want := o.Count - o.Errors["cancelled"]; int64(h.GetSampleCount()) != want || want == 0 {
				t.Errorf("%s latency histogram holds %d, want %d", op, h.GetSampleCount(), want)
			}
		}
		if lag := sample(t, end, "stampede_engine_lag_seconds").GetHistogram(); lag.GetSampleCount() < uint64(p.Clients) {
			t.Errorf("lag histogram holds %d, want at least one per client start", lag.GetSampleCount())
		}
		q := res.Requests
		for name, want := range map[string]int64{
			"stampede_forced_signouts_total":              res.Sessions.ForcedSignouts,
			"stampede_re_sign_ins_total":                  res.Sessions.ReSignIns,
			"stampede_duplicate_refreshes_total":          res.Herd.DuplicateRefreshes,
			"stampede_refresh_retries_total":              res.Herd.Retries,
			"stampede_app_calls_issued_total":             q.Issued,
			"stampede_app_calls_unsettled":                q.Lost,
			"stampede_app_call_retry_loops_total":         q.RetryLoops,
			"stampede_app_call_stale_token_retries_total": q.StaleTokenRetries,
			"stampede_refreshes_in_flight":                0,
		} {
			if got := value(t, end, name); got != want {
				t.Errorf("%s = %d, result %d", name, got, want)
			}
		}
		if res.Sessions.ForcedSignouts != 25 {
			t.Errorf("the wave signed out %d clients, want 25", res.Sessions.ForcedSignouts)
		}
		for result, want := range map[string]int64{"ok": q.OK, "user_visible_error": q.UserVisibleErrors, "cancelled": q.Cancelled} {
			if got := value(t, end, "stampede_app_calls_settled_total", "result", result); got != want {
				t.Errorf("app calls settled %s = %d, result %d", result, got, want)
			}
		}
		if got := value(t, end, "stampede_clients", "state", "signed_in"); got != 0 {
			t.Errorf("%d clients signed in after the run", got)
		}
	})
}
