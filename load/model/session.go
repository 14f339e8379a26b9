package model

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Session statuses the client reports (SessionStatus) besides the
// server's terminal ones: a session waiting for a task, and the user who
// dismissed the sign-in flow and left.
const (
	StatusPending         = "pending"
	StatusSignInCancelled = "sign_in_cancelled"
)

// CodePendingSession is the error code of a refresh answer for a session
// that waits for a session task (choose-organization, reset-password,
// setup-mfa): the embedded backend's session_pending.
const CodePendingSession = "session_pending"

// CodeColdStart is the cause of the forced sign-out of an app whose
// tokens lived in memory only (token_cache memory) and that was killed.
const CodeColdStart = "cold_start"

// SessionConfig is how the client treats its session beyond refreshing it:
// pending sessions, the token cache across a cold start, retries while
// offline and the sign-in flow a user goes through to sign in again.
type SessionConfig struct {
	// TokenCache is profiles.TokenCache*; "" is secure.
	TokenCache string
	// TreatPendingAsSignedOut makes a pending session a forced sign-out.
	TreatPendingAsSignedOut bool
	// OfflineRetries, when OfflineLimit is set, replaces
	// ClientConfig.MaxRetries while the device is offline.
	OfflineRetries int
	OfflineLimit   bool
	// SignInLatency is the time a user spends in the sign-in flow, its
	// Value in wall-clock time; zero is at once.
	SignInLatency profiles.Dist
	// SignInCancel and SignInFailure are the chances the user dismisses
	// the flow (and leaves) or the flow fails (tried again after think time).
	SignInCancel, SignInFailure float64
}

// newSessionConfig derives the session configuration from a profile.
func newSessionConfig(p profiles.Profile) SessionConfig {
	s := SessionConfig{
		TokenCache:              p.SDK.TokenCache,
		TreatPendingAsSignedOut: p.SDK.TreatPendingAsSignedOut,
		SignInCancel:            p.App.SignIn.CancelRate,
		SignInFailure:           p.App.SignIn.FailureRate,
	}
	if n := p.SDK.Retry.MaxRetriesOffline; n > 0 {
		s.OfflineRetries, s.OfflineLimit = retriesOf(n), true
	}
	if l := p.App.SignIn.Latency; !l.IsZero() {
		l.Value = profiles.Duration(p.Scale(l.Value))
		l.Values = nil
		for _, x := range p.App.SignIn.Latency.Values {
			l.Values = append(l.Values, profiles.Duration(p.Scale(x)))
		}
		s.SignInLatency = l
	}
	return s
}

// retriesOf is the retries of a request attempted at most attempts times
// (the article's retryWithBackoff counts attempts, the first included).
func retriesOf(attempts int) int { return max(attempts-1, 0) }

// maxRetries is how many retries a failed request gets now: fewer while
// offline when the SDK fails fast there.
func (c *Client) maxRetries() int {
	if c.offline && c.cfg.Session.OfflineLimit {
		return c.cfg.Session.OfflineRetries
	}
	return c.cfg.MaxRetries
}

// offlineCache reports whether getToken serves the cached token offline:
// the resource cache, which needs a token cache to live in.
func (c *Client) offlineCache() bool {
	return c.cfg.OfflineCache && c.cfg.Session.TokenCache != profiles.TokenCacheNone
}

// PendingTask reports whether the client's session waits for a session task
// (treat_pending_as_signed_out off).
func (c *Client) PendingTask() bool { return c.pending }

// onPending handles a refresh answered session_pending. Treated as signed
// out (the SDK's default), the app's route guard sends the user to sign in
// again: a forced sign-out whose sign-in replaces the pending session.
// Otherwise the app shows the task: it makes no API call and keeps polling
// until the session is active again.
func (c *Client) onPending(now time.Time, o Outcome) {
	if c.cfg.Session.TreatPendingAsSignedOut {
		c.signOut(now, o)
		return
	}
	c.pending = true
	c.status = StatusPending
	c.refreshAttempt = 0
	if c.recovering {
		c.recovering = false
		c.record(Action{Metric: MetricForegroundRecovery, OK: false, Class: o.Class, Latency: now.Sub(c.foreAt)})
	}
	c.failWaiting(now, o.Class)
	c.cancelTimer(TimerAPI)
	c.setTimer(TimerRefresh, now.Add(c.pollGap()))
}

// taskDone is a refresh that succeeded while the session was pending: the
// user completed the task and the app is back to its screens.
func (c *Client) taskDone(now time.Time) {
	if !c.pending {
		return
	}
	c.pending = false
	c.status = "active"
	if c.cfg.APIInterval > 0 {
		c.setTimer(TimerAPI, now.Add(c.apiGap()))
	}
}

// coldStart applies the token cache to an app that was killed in the
// background, before it comes back: with secure storage the client token
// survives, and the session token too when the offline cache keeps it;
// in memory everything is lost and the user must sign in again (a forced
// sign-out); with no cache every launch is a sign-in. It reports whether
// the app lost its session.
func (c *Client) coldStart(now time.Time) bool {
	switch c.cfg.Session.TokenCache {
	case profiles.TokenCacheMemory, profiles.TokenCacheNone:
		c.token, c.expiresAt = "", time.Time{}
		if c.phase != PhaseSignedIn {
			return false
		}
		if c.cfg.Session.TokenCache == profiles.TokenCacheMemory {
			c.signOut(now, Outcome{Class: ClassOther, Code: CodeColdStart})
			return true
		}
		// No cache: the app launches on its sign-in screen.
		c.loseSession(now, Outcome{Class: ClassOther, Code: CodeColdStart}, false)
		c.status = "none"
		c.setTimer(TimerSignIn, now)
		return true
	}
	if !c.offlineCache() {
		c.token, c.expiresAt = "", time.Time{}
	}
	return false
}

// userSignIn runs the sign-in flow of a signed-out user whose sign-in is
// due at at: the flow's latency, then the user cancels (and leaves), the
// flow fails (tried again after think time) or the sign-in request goes
// out. It reports whether the flow holds the request back.
func (c *Client) userSignIn(now, at time.Time) bool {
	s := &c.cfg.Session
	if c.left {
		return true
	}
	if !c.inFlow && !s.SignInLatency.IsZero() {
		c.inFlow = true
		c.setTimer(TimerSignIn, at.Add(c.sample(s.SignInLatency)))
		return true
	}
	c.inFlow = false
	if s.SignInCancel+s.SignInFailure <= 0 {
		return false
	}
	switch u := c.uniform(); {
	case u < s.SignInCancel:
		c.left = true
		c.status = StatusSignInCancelled
		c.record(Action{Metric: MetricSignInCancelled})
		return true
	case u < s.SignInCancel+s.SignInFailure:
		c.record(Action{Metric: MetricSignInFlowFailed})
		c.setTimer(TimerSignIn, now.Add(c.cfg.ThinkTime))
		return true
	}
	return false
}

// ClientToken is the client token of the client's session, "" when it holds none.
func (c *Client) ClientToken() string { return c.clientToken }

// Left reports whether the user dismissed a sign-in and left the app.
func (c *Client) Left() bool { return c.left }

// sample draws a duration from d (its Value in wall-clock time).
func (c *Client) sample(d profiles.Dist) time.Duration {
	v := float64(d.Value)
	switch d.Dist {
	case profiles.DistExponential:
		v *= -math.Log(1 - c.uniform())
	case profiles.DistChoice:
		if n := len(d.Values); n > 0 {
			v = float64(d.Values[min(int(c.uniform()*float64(n)), n-1)])
		}
	case profiles.DistLognormal:
		// Box-Muller: a standard normal from two uniforms.
		u1, u2 := c.uniform(), c.uniform()
		n := math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
		v *= math.Exp(d.Sigma * n)
	}
	return time.Duration(v)
}
