// Package chaos is what goes wrong around a simulated client: the app's
// foreground/background life, the mobile network under it, and fleet-wide
// events on the run's timeline. The embedded backend those events act on
// lives in chaos/backend.
package chaos

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Sample draws one duration from d, scaled by 1/scale (scale ≤ 0 means 1).
func Sample(d profiles.Dist, scale float64, rng *rand.Rand) time.Duration {
	if scale <= 0 {
		scale = 1
	}
	v := float64(d.Value)
	switch d.Dist {
	case profiles.DistExponential:
		v *= rng.ExpFloat64()
	case profiles.DistLognormal:
		v *= math.Exp(d.Sigma * rng.NormFloat64())
	case profiles.DistChoice:
		if len(d.Values) > 0 {
			v = float64(d.Values[rng.IntN(len(d.Values))])
		}
	}
	return time.Duration(v / scale)
}

// unit maps (seed, a, b) to a uniform number in [0, 1): the same inputs
// always give the same number, so which clients an event hits is seeded.
func unit(seed, a, b uint64) float64 {
	x := splitmix(seed ^ splitmix(a^splitmix(b)))
	return float64(x>>11) / (1 << 53)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
