package chaos

import (
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Lifecycle draws one client's foreground stints and background gaps.
type Lifecycle struct {
	l     profiles.Lifecycle
	scale float64
	rng   *rand.Rand
}

// NewLifecycle returns the lifecycle of client idx, or nil when the profile
// keeps every app in the foreground.
func NewLifecycle(p profiles.Profile, idx int) *Lifecycle {
	if p.App.Lifecycle.Model != profiles.LifecycleBackgroundForeground {
		return nil
	}
	return &Lifecycle{
		l:     p.App.Lifecycle,
		scale: p.TimeScale,
		rng:   rand.New(rand.NewPCG(p.Seed^0x6c6966656379636c, uint64(idx))),
	}
}

// Foreground draws how long the app stays in the foreground (wall time).
func (l *Lifecycle) Foreground() time.Duration {
	return max(Sample(l.l.Foreground, l.scale, l.rng), time.Millisecond)
}

// Background draws how long the app stays in the background (wall time) and
// whether the system kills it meanwhile (a cold start on return).
func (l *Lifecycle) Background() (time.Duration, bool) {
	d := max(Sample(l.l.Background, l.scale, l.rng), time.Millisecond)
	return d, l.l.ColdStart > 0 && l.rng.Float64() < l.l.ColdStart
}
