package load

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// slowAdmin delegates to an admin API, each revocation taking 100 ms, and
// counts the revocations in flight at once.
type slowAdmin struct {
	chaos.Admin
	mu             sync.Mutex
	inflight, peak int
}

func (a *slowAdmin) Revoke(ctx context.Context, sid string) error {
	a.mu.Lock()
	a.inflight++
	a.peak = max(a.peak, a.inflight)
	a.mu.Unlock()
	defer func() { a.mu.Lock(); a.inflight--; a.mu.Unlock() }()
	time.Sleep(100 * time.Millisecond)
	return a.Admin.Revoke(ctx, sid)
}

// TestRevocationWaveBoundsItsAdminCalls: a wave over 300 sessions revokes
// every one, never more than maxAdminCalls at once, so its memory and
// connections do not grow with the fleet.
func TestRevocationWaveBoundsItsAdminCalls(t *testing.T) {
	p := fleetProfile(profiles.Event{Type: profiles.EventRevocationWave, At: profiles.At{Share: 0.5}, Fraction: 1})
	p.Clients = 300
	var res reports.Result
	admin := &slowAdmin{}
	synctest.Test(t, func(t *testing.T) {
		be, err := backend.New(backend.Config{TokenLifetime: p.Scale(p.Backend.TokenLifetime), MaxLifetime: p.Scale(p.Backend.MaxLifetime),
			Signing: "EdDSA", Seed: p.Seed})
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: handlerTransport{be}}
		fapi := &target.FAPI{Base: "http://backend.test", Client: hc}
		admin.Admin = &chaos.AdminClient{Base: "http://backend.test", Client: hc}
		eng, err := New(Config{Profile: p, Auth: fapi, Resource: fapi, Admin: admin})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(context.Background(), &res); err != nil {
			t.Fatal(err)
		}
	})
	if res.Events[0].Sessions != 300 {
		t.Errorf("revoked %d sessions of 300", res.Events[0].Sessions)
	}
	if admin.peak > maxAdminCalls || admin.peak < 2 {
		t.Errorf("%d revocations in flight at once, want 2 to %d", admin.peak, maxAdminCalls)
	}
}
