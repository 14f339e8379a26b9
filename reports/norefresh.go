package reports

import (
	"fmt"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// NoRefreshReason says why a run made no refresh at all, for the refresh
// row the summary keeps at 0; "" when it made some.
func NoRefreshReason(r *Result) string {
	if o := r.Ops[OpRefresh]; o != nil && o.Count > 0 {
		return ""
	}
	if o := r.Ops[OpSignIn]; o == nil || o.OK == 0 {
		return "no client signed in, so none had a token to refresh"
	}
	p := r.Profile
	life := time.Duration(r.Target.TokenLifetimeS * float64(time.Second))
	ahead := p.Scale(p.SDK.RefreshAhead)
	wall := p.Duration.D()
	if !r.EndedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		wall = r.EndedAt.Sub(r.StartedAt)
	}
	if life > 0 && life-ahead >= wall {
		what := "run longer or make the tokens shorter-lived"
		if p.TargetKind() == profiles.TargetOAuth2 {
			what = "set target.refresh_interval to refresh this often whatever the tokens' lifetime"
		}
		return fmt.Sprintf("the session tokens live %s, and clients refresh %s before expiry: none came due within the run's %s; %s",
			life.Round(time.Second), ahead, wall.Round(100*time.Millisecond), what)
	}
	return fmt.Sprintf("no token came within sdk.refresh_ahead (%s) of its expiry before the run ended", ahead)
}
