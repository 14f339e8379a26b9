package run

import "testing"

func TestGCPercentKeepsHeadroomForLargeFleetsOnly(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{50 << 20, 100},  // a small run: Go's default
		{256 << 20, 100}, // headroom 256 MiB = all of it
		{384 << 20, 66},  // 256 MiB of 384
		{512 << 20, 50},  // 256 MiB of 512: half
		{1900 << 20, 50}, // a million clients: 0.95 GiB, not 1.9 GiB
		{100 << 30, 50},  // never below half
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
