package backend

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestMetricsExposition(t *testing.T) {
	b, _ := newTestBackend(t, Config{Signing: SigningEdDSA})
	si := signIn(t, b)
	mintToken(t, b, si)
	do(t, b, http.MethodPost, "/v1/client/sessions/sess_nope/tokens", si.ClientToken, "")
	if err := b.Revoke(signIn(t, b).Session.ID); err != nil {
		t.Fatal(err)
	}
	rec := do(t, b, http.MethodGet, "/metrics", "", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	for name, want := range map[string]struct {
		typ  dto.MetricType
		help string
	}{
		"stampede_backend_responses_total":     {dto.MetricType_COUNTER, "Responses served by the backend, by endpoint and HTTP status code."},
		"stampede_backend_sessions":            {dto.MetricType_GAUGE, "Sessions by status."},
		"stampede_backend_tokens_minted_total": {dto.MetricType_COUNTER, "Session JWTs signed."},
		"stampede_backend_shed_total":          {dto.MetricType_COUNTER, "Client requests answered 503 overloaded by admission control, by reason."},
		"stampede_backend_inflight":            {dto.MetricType_GAUGE, "Client requests being handled."},
		"stampede_backend_queued":              {dto.MetricType_GAUGE, "Client requests waiting for a slot."},
		"stampede_backend_inflight_peak":       {dto.MetricType_GAUGE, "Highest number of client requests handled at once."},
		"stampede_backend_queued_peak":         {dto.MetricType_GAUGE, "Highest number of client requests waiting at once."},
		"stampede_backend_max_inflight":        {dto.MetricType_GAUGE, "Bound on client requests handled at once."},
		"stampede_backend_max_queue":           {dto.MetricType_GAUGE, "Bound on client requests waiting for a slot."},
	} {
		mf := fams[name]
		if mf == nil || mf.GetType() != want.typ || mf.GetHelp() != want.help {
			t.Errorf("family %s = %v, want type %v, help %q", name, mf, want.typ, want.help)
		}
	}
	if len(fams) != 10 {
		t.Errorf("%d metric families, want 10:\n%s", len(fams), body)
	}
	series := map[string]float64{}
	for name, mf := range fams {
		for _, m := range mf.GetMetric() {
			key := name
			for _, lp := range m.GetLabel() {
				key += " " + lp.GetName() + "=" + lp.GetValue()
			}
			series[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"stampede_backend_responses_total code=200 endpoint=sign_in": 2,
		"stampede_backend_responses_total code=200 endpoint=token":   1,
		"stampede_backend_responses_total code=404 endpoint=token":   1,
		"stampede_backend_sessions status=active":                    1,
		"stampede_backend_sessions status=revoked":                   1,
		"stampede_backend_sessions status=expired":                   0,
		"stampede_backend_tokens_minted_total":                       3,
		"stampede_backend_shed_total reason=queue_full":              0,
		"stampede_backend_inflight":                                  0,
		"stampede_backend_max_queue":                                 1024,
	} {
		if got, ok := series[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v\n%s", key, got, ok, want, body)
		}
	}
	// Responses (3), sessions, tokens minted, shed by reason (2), the six
	// admission gauges.
	if want := 3 + len(sessionStatuses) + 1 + 2 + 6; len(series) != want {
		t.Errorf("%d series, want %d:\n%s", len(series), want, body)
	}
	if strings.Contains(body, `endpoint="metrics"`) {
		t.Errorf("metrics include the scrape being served:\n%s", body)
	}
	// The scrape itself is counted once served.
	if n := b.Stats().Endpoints[EndpointMetrics]["200"]; n != 1 {
		t.Errorf("stats count %d metrics scrapes, want 1", n)
	}
}
