package reports

import (
	"fmt"
	"math"

	"github.com/stampede-load/stampede/profiles"
)

// TimeScale is result.json's time_scale: how the run's time scale
// stretched the durations it never scales (the request timeout, the
// network's round trips) next to the token lifetime, so that a report can
// flag a herd the time scale distorted (docs/results.md#time-scale).
type TimeScale struct {
	TimeScale       float64 `json:"time_scale"`
	TokenLifetimeS  float64 `json:"token_lifetime_s"`
	RequestTimeoutS float64 `json:"request_timeout_s"`
	// RequestTimeoutSimulatedS is the request timeout in simulated seconds.
	RequestTimeoutSimulatedS float64 `json:"request_timeout_simulated_s"`
	RoundTripS               float64 `json:"round_trip_s"`
	RoundTripSimulatedS      float64 `json:"round_trip_simulated_s"`
	// TimeoutPerLifetime is the simulated request timeout over the token
	// lifetime; above 0.5 the run is Distorted.
	TimeoutPerLifetime   float64 `json:"timeout_per_lifetime"`
	RoundTripPerLifetime float64 `json:"round_trip_per_lifetime"`
	Distorted            bool    `json:"distorted"`
	// FaithfulTimeScale is the largest time scale that is not distorted;
	// 0 when none of at least 1 is.
	FaithfulTimeScale float64 `json:"faithful_time_scale"`
}

// TimeScaleOf computes the TimeScale of a run of p.
func TimeScaleOf(p profiles.Profile) *TimeScale {
	c := p.CheckTimeScale()
	r4 := func(f float64) float64 { return math.Round(f*1e4) / 1e4 }
	return &TimeScale{
		TimeScale:                c.TimeScale,
		TokenLifetimeS:           r4(c.TokenLifetime.D().Seconds()),
		RequestTimeoutS:          r4(c.RequestTimeout.D().Seconds()),
		RequestTimeoutSimulatedS: r4(c.RequestTimeoutSimulated.D().Seconds()),
		RoundTripS:               r4(c.RoundTrip.D().Seconds()),
		RoundTripSimulatedS:      r4(c.RoundTripSimulated.D().Seconds()),
		TimeoutPerLifetime:       r4(c.TimeoutPerLifetime),
		RoundTripPerLifetime:     r4(c.RoundTripPerLifetime),
		Distorted:                c.Distorted,
		FaithfulTimeScale:        c.FaithfulTimeScale,
	}
}

// Flag is the line a report shows for a distorted run, "" otherwise.
func (t *TimeScale) Flag() string {
	if t == nil || !t.Distorted {
		return ""
	}
	return fmt.Sprintf("distorted herd: at time scale %g the request timeout lasts %gs simulated, %.2f token lifetimes (faithful up to time scale %g)",
		t.TimeScale, t.RequestTimeoutSimulatedS, t.TimeoutPerLifetime, t.FaithfulTimeScale)
}
