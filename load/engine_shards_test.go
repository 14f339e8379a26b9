package load

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// TestShardsMergeToTheWholeRunExactly runs a fleet whole and as 4 shards
// started at one instant against one backend, in fake time, where both
// runs are deterministic: the merge must equal the whole run count for
// count, and its histograms must hold the same latencies.
func TestShardsMergeToTheWholeRunExactly(t *testing.T) {
	p := profiles.Default()
	p.Clients = 120
	p.Events = []profiles.Event{{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.5}, Fraction: 0.25}}
	whole, _ := runFake(t, p, nil)
	checkBooks(t, &whole)

	var parts []*reports.Result
	synctest.Test(t, func(t *testing.T) {
		be := newBackend(t, p)
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		admin := &chaos.AdminClient{Base: "http://backend.test", Client: hc}
		startAt := time.Now().Add(time.Second)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Admin: admin, Shard: i, Shards: 4, StartAt: startAt})
				if err != nil {
					t.Error(err)
					return
				}
				res := &reports.Result{Schema: reports.Schema, RunID: "sharded"}
				if err := eng.Run(context.Background(), res); err != nil {
					t.Error(err)
				}
				mu.Lock()
				parts = append(parts, res)
				mu.Unlock()
			})
		}
		wg.Wait()
	})
	merged, err := reports.Merge(parts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range reports.OpNames {
		w, m := whole.Ops[op], merged.Ops[op]
		if w.Count != m.Count || w.OK != m.OK || w.ErrorCount() != m.ErrorCount() {
			t.Errorf("ops.%s: whole %d/%d/%d, merged %d/%d/%d (count/ok/errors)", op, w.Count, w.OK, w.ErrorCount(), m.Count, m.OK, m.ErrorCount())
		}
		// In fake time every latency is exact, so the histograms agree to the value.
		if w.LatencyMs != m.LatencyMs {
			t.Errorf("ops.%s latency: whole %+v, merged %+v", op, w.LatencyMs, m.LatencyMs)
		}
	}
	if whole.Requests != merged.Requests || whole.Sessions.ForcedSignouts != merged.Sessions.ForcedSignouts ||
		whole.Sessions.ReSignIns != merged.Sessions.ReSignIns {
		t.Errorf("requests or sessions differ:\nwhole  %+v %+v\nmerged %+v %+v", whole.Requests, whole.Sessions, merged.Requests, merged.Sessions)
	}
	if whole.Sessions.ForcedSignouts == 0 {
		t.Error("the revocation wave signed nobody out: the event did not reach the shards' clients")
	}
	if _, err := reports.Merge(parts[0], parts[0], parts[1], parts[2]); err == nil {
		t.Error("merged a shard given twice")
	}
}
