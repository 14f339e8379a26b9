package target

import (
	"fmt"
	"io"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/profiles"
)

// warnProfile writes, before the run, the warnings about what the
// profile asks of an external target: one user for every client, and a
// stale window longer than the refresh ahead of an OAuth 2.0 target.
func warnProfile(w io.Writer, p profiles.Profile) {
	if w == nil {
		return
	}
	t := p.Target
	if u := t.Users.Pattern; u != "" && t.Users.File == "" && SharedUser(u) && p.Clients > 1 {
		fmt.Fprintf(w, "stampede: warning: target.users.pattern %q has no %%d: all %d clients sign in as that one user (a provider that keeps one session per user signs the others out); put %%d where the client's number goes, such as \"user%%d@example.com\"\n",
			u, p.Clients)
	}
	if p.TargetKind() == profiles.TargetOAuth2 && p.SDK.StaleWindow > p.SDK.RefreshAhead {
		fmt.Fprintf(w, "stampede: warning: sdk.stale_window (%s) is longer than sdk.refresh_ahead (%s): API calls made with a stale token race the refreshes, and a provider that revokes the previous access token on refresh refuses them (counted as superseded_token); set sdk.stale_window to at most sdk.refresh_ahead\n",
			p.SDK.StaleWindow, p.SDK.RefreshAhead)
	}
}

// tokenLifetime is how long the token of cr lives from now; 0 when it
// does not say.
func tokenLifetime(cr Credentials, now time.Time) time.Duration {
	exp := cr.ExpiresAt
	if exp.IsZero() {
		exp = cr.Times.ExpiresAt
	}
	if exp.IsZero() {
		if tt, err := model.ParseTokenTimes(cr.Token); err == nil {
			exp = tt.ExpiresAt
		}
	}
	if exp.IsZero() {
		return 0
	}
	return max(exp.Sub(now), 0)
}

// NoRefreshes reports whether tokens that live lifetime (wall-clock) come
// due for no refresh within p's run: lifetime less the scaled
// sdk.refresh_ahead is at least the run's duration.
func NoRefreshes(p profiles.Profile, lifetime time.Duration) bool {
	return lifetime > 0 && lifetime-p.Scale(p.SDK.RefreshAhead) >= p.Duration.D()
}

// warnLifetime warns, before the run, when tokens that live lifetime (as
// from says) will not be refreshed within it: a run that would show no
// refresh at all.
func warnLifetime(w io.Writer, p profiles.Profile, lifetime time.Duration, from string) {
	if w == nil || !NoRefreshes(p, lifetime) {
		return
	}
	what := "run longer, or make the target's tokens shorter-lived"
	switch p.TargetKind() {
	case profiles.TargetBuiltin:
		what = "run longer, or set backend.token_lifetime shorter"
	case profiles.TargetOAuth2:
		if p.Target.RefreshInterval != 0 {
			return // the tokens are reported to expire sooner
		}
		iv := max(time.Duration(float64(p.Duration.D())*max(p.TimeScale, 1)/4).Round(time.Second), time.Second)
		what = fmt.Sprintf("set target.refresh_interval to refresh this often whatever the tokens' lifetime (such as --set target.refresh_interval=%s)", iv)
	}
	fmt.Fprintf(w, "stampede: warning: the session tokens live %s (%s) and clients refresh %s before expiry: no client will refresh within the run's %s; %s\n",
		lifetime.Round(time.Second), from, p.SDK.RefreshAhead, p.Duration, what)
}
