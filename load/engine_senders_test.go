package load

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// runPooled runs p in fake time against the embedded backend with the
// engine's sender pool bounded to maxInFlight (0: a goroutine per request).
func runPooled(t *testing.T, p profiles.Profile, maxInFlight int) reports.Result {
	t.Helper()
	var res reports.Result
	synctest.Test(t, func(t *testing.T) {
		be := newBackend(t, p)
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi,
			Admin: &chaos.AdminClient{Base: "http://backend.test", Client: hc}, MaxInFlight: maxInFlight})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	return res
}

// TestSenderPoolQueuesWithoutLosingOrAlteringRequests: a pool far smaller
// than the fleet's bursts (one sender per worker) queues requests, yet in
// fake time, where answers take no time, the run is the same as with a
// goroutine per request: every request made, settled and timed alike.
func TestSenderPoolQueuesWithoutLosingOrAlteringRequests(t *testing.T) {
	p := profiles.Default()
	p.Clients = 60
	// The whole fleet reconnects at one instant and refreshes at once.
	p.Events = []profiles.Event{{Type: profiles.EventOutage, At: profiles.At{Share: 0.4}, Fraction: 1,
		Duration: profiles.Duration(30e9), Mode: profiles.OutageFailFast}}
	free := runPooled(t, p, 0)
	pooled := runPooled(t, p, 1)
	checkBooks(t, &free)
	checkBooks(t, &pooled)
	if free.Engine.QueuedRequests != 0 {
		t.Errorf("queued %d requests without a pool", free.Engine.QueuedRequests)
	}
	if pooled.Engine.QueuedRequests == 0 {
		t.Fatal("a one-sender pool queued no request: the test does not exercise the queue")
	}
	for _, op := range reports.OpNames {
		f, q := free.Ops[op], pooled.Ops[op]
		if f.Count != q.Count || f.OK != q.OK || f.ErrorCount() != q.ErrorCount() {
			t.Errorf("ops.%s: free %d/%d/%d, pooled %d/%d/%d (count/ok/errors)", op, f.Count, f.OK, f.ErrorCount(), q.Count, q.OK, q.ErrorCount())
		}
		if f.LatencyMs != q.LatencyMs {
			t.Errorf("ops.%s latency: free %+v, pooled %+v", op, f.LatencyMs, q.LatencyMs)
		}
	}
	if free.Requests != pooled.Requests || free.Sessions.ForcedSignouts != pooled.Sessions.ForcedSignouts {
		t.Errorf("requests or sessions differ:\nfree   %+v %+v\npooled %+v %+v", free.Requests, free.Sessions, pooled.Requests, pooled.Sessions)
	}
	t.Logf("pooled run: %d requests queued; refreshes %d", pooled.Engine.QueuedRequests, pooled.Ops[reports.OpRefresh].Count)
}

// hangTransport answers nothing: every request waits for its context.
type hangTransport struct{}

func (hangTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestQueuedRequestsTimeOutFromWhenTheClientSentThem: the wait for a free
// sender counts in a request's timeout, as an SDK's timeout covers the wait
// for a connection: against a target that never answers, sign-ins queued
// behind a hanging one fail as timeouts no later than the timeout after the
// client sent them, not a timeout per request ahead in the queue.
func TestQueuedRequestsTimeOutFromWhenTheClientSentThem(t *testing.T) {
	p := profiles.Default()
	p.Clients = 40 // several clients per worker, one sender each
	p.Ramp = 0
	p.Duration = profiles.Duration(15e9)
	timeout := p.SDK.RequestTimeout.D()
	var res reports.Result
	synctest.Test(t, func(t *testing.T) {
		hang := &target.FAPI{Base: "http://backend.test", Client: &http.Client{Transport: hangTransport{}}}
		eng, err := New(Config{Profile: p, Auth: hang, Resource: hang, MaxInFlight: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	checkBooks(t, &res)
	in := res.Ops[reports.OpSignIn]
	if res.Engine.QueuedRequests == 0 {
		t.Fatal("no sign-in queued: the test does not exercise the queue")
	}
	if in.Count < int64(p.Clients) || in.OK != 0 || in.Errors["timeout"] != in.Count-in.Errors["cancelled"] {
		t.Fatalf("sign-ins %d, ok %d, errors %v: want every one of the %d clients' sign-ins to time out", in.Count, in.OK, in.Errors, p.Clients)
	}
	if max := in.LatencyMs.Max; max > float64(timeout.Milliseconds())*1.001 {
		t.Errorf("sign-in latency max %v ms: a queued request waited past its %v timeout", max, timeout)
	}
}
