package proxy

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/profiles"
)

func TestCollectorShowsTheLiveFigures(t *testing.T) {
	h := newHarness(t, &fakeFAPI{rotate: true}, profiles.Default(), nil)
	ct, _ := h.signIn()
	h.refresh(ct)
	h.refresh(ct) // the rotated client token again
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.px.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	series := map[string]int{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			series[mf.GetName()]++
			if c := m.GetCounter(); c != nil {
				got[mf.GetName()] += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				got[mf.GetName()] += g.GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"stampede_proxy_refresh_token_reuse_total": 1,
		"stampede_proxy_sessions":                  1,
		"stampede_proxy_requests_total":            3, // a sign-in and two refreshes
		"stampede_proxy_refresh_inflight":          0,
	} {
		if got[name] != want {
			t.Errorf("%s = %g, want %g", name, got[name], want)
		}
	}
	if series["stampede_proxy_duplicate_refreshes_total"] != 2 {
		t.Errorf("duplicate refresh series %d, want inflight and same_generation", series["stampede_proxy_duplicate_refreshes_total"])
	}
}
