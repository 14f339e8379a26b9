package run

import "testing"

func TestGCPercentKeepsHeadroomForLargeFleetsOnly(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{30 << 20, 100},  // a small run: Go's default
		{64 << 20, 100},  // headroom 64 MiB = all of it
		{96 << 20, 66},   // 64 MiB of 96
		{128 << 20, 50},  // 64 MiB of 128: half
		{170 << 20, 50},  // 100,000 clients: 85 MiB, not 170
		{1900 << 20, 50}, // a million clients: 0.95 GiB, not 1.9 GiB
		{100 << 30, 50},  // never below half
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
