package profiles

import (
	"fmt"
	"math"
	"time"
)

// TimeScaleCheck is what a profile's time scale does to the durations it
// never scales: the request timeout and the network's round trips are real
// time, so in the simulated time of the token lifetimes they last
// TimeScale times longer. A timeout that spans a good part of a token
// lifetime lets a hung request outlive the token it carries, and the herd
// a run shows is then partly the time scale's making.
type TimeScaleCheck struct {
	TimeScale float64
	// TokenLifetime is the simulated lifetime the check compares with:
	// target.refresh_interval where set, else backend.token_lifetime (the
	// embedded backend's or a stampede serve's); 0 for an oauth2 or http
	// target without refresh_interval, whose provider sets its lifetimes.
	TokenLifetime Duration
	// RequestTimeout and RoundTrip (network latency plus jitter) are
	// wall-clock; their Simulated counterparts are × TimeScale.
	RequestTimeout, RequestTimeoutSimulated Duration
	RoundTrip, RoundTripSimulated           Duration
	// TimeoutPerLifetime and RoundTripPerLifetime are the simulated
	// durations over TokenLifetime.
	TimeoutPerLifetime, RoundTripPerLifetime float64
	// Distorted says the request timeout spans more than half a token
	// lifetime (TimeoutPerLifetime > MaxTimeoutPerLifetime).
	Distorted bool
	// FaithfulTimeScale is the largest whole time scale at which it does
	// not; 0 when none of at least 1 does (shorten sdk.request_timeout).
	FaithfulTimeScale float64
}

// MaxTimeoutPerLifetime is the share of a token lifetime a request timeout
// may span in simulated time before a run warns that its time scale
// distorts the herd.
const MaxTimeoutPerLifetime = 0.5

// CheckTimeScale computes p's TimeScaleCheck.
func (p Profile) CheckTimeScale() TimeScaleCheck {
	scale := max(p.TimeScale, 1)
	c := TimeScaleCheck{
		TimeScale:      scale,
		TokenLifetime:  p.Backend.TokenLifetime,
		RequestTimeout: p.SDK.RequestTimeout,
		RoundTrip:      p.Network.Latency + p.Network.Jitter,
	}
	switch {
	case p.Target.RefreshInterval > 0:
		c.TokenLifetime = p.Target.RefreshInterval
	case p.Target.Kind == TargetOAuth2 || p.Target.Kind == TargetHTTP:
		// The provider's tokens live what it says, in real time, not
		// backend.token_lifetime: nothing to compare with.
		c.TokenLifetime = 0
	}
	c.RequestTimeoutSimulated = Duration(float64(c.RequestTimeout) * scale)
	c.RoundTripSimulated = Duration(float64(c.RoundTrip) * scale)
	if c.TokenLifetime <= 0 {
		return c
	}
	c.TimeoutPerLifetime = float64(c.RequestTimeoutSimulated) / float64(c.TokenLifetime)
	c.RoundTripPerLifetime = float64(c.RoundTripSimulated) / float64(c.TokenLifetime)
	c.Distorted = c.TimeoutPerLifetime > MaxTimeoutPerLifetime
	if c.RequestTimeout > 0 {
		if f := math.Floor(MaxTimeoutPerLifetime * float64(c.TokenLifetime) / float64(c.RequestTimeout)); f >= 1 {
			c.FaithfulTimeScale = f
		}
	}
	return c
}

// Warning is the line a run prints before it starts when the time scale
// distorts the herd, "" when it does not.
func (c TimeScaleCheck) Warning() string {
	if !c.Distorted {
		return ""
	}
	fix := fmt.Sprintf("the largest faithful time scale is %g (--time-scale %g)", c.FaithfulTimeScale, c.FaithfulTimeScale)
	if c.FaithfulTimeScale == 0 {
		fix = fmt.Sprintf("no time scale of at least 1 is faithful: shorten sdk.request_timeout to at most %s", Duration(MaxTimeoutPerLifetime*float64(c.TokenLifetime)))
	}
	return fmt.Sprintf("time scale %g distorts the herd: the request timeout (%s) lasts %s of simulated time, %.2f token lifetimes (%s), "+
		"and a round trip (%s) %s, %.2f of one; a request can hang past the token it carries: %s",
		c.TimeScale, c.RequestTimeout, roundSim(c.RequestTimeoutSimulated), c.TimeoutPerLifetime, c.TokenLifetime,
		c.RoundTrip, roundSim(c.RoundTripSimulated), c.RoundTripPerLifetime, fix)
}

func roundSim(d Duration) Duration { return Duration(time.Duration(d).Round(time.Millisecond)) }
