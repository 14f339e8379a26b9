package driver

import (
	"math"
	"time"
)

// RampOffset is client idx's start within the ramp: linear across the
// fleet, with each client placed at a seeded random point inside its own
// slot so the fleet does not start in lockstep.
func RampOffset(seed uint64, idx, clients int, ramp time.Duration) time.Duration {
	if ramp <= 0 || clients <= 0 {
		return 0
	}
	u := float64(splitmix(seed^uint64(idx)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	return time.Duration(math.Floor((float64(idx) + u) / float64(clients) * float64(ramp)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
