package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestBoundedKeepsHeadroomForLargeFleetsOnly(t *testing.T) {
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
		if got := Bounded(tc.live); got != tc.want {
			t.Errorf("Bounded(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

func TestFloorCollectsASmallHeapEveryHeadroom(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 10000},
		{512 << 10, 10000}, // half a MiB: capped
		{4 << 20, 1600},    // 64 MiB of 4
		{32 << 20, 200},    // 64 MiB of 32
		{64 << 20, 100},    // Go's default from here
		{1 << 30, 100},
	} {
		if got := Floor(tc.live); got != tc.want {
			t.Errorf("Floor(%d KiB) = %d, want %d", tc.live>>10, got, tc.want)
		}
	}
}

func TestApplySetsThePolicysPercentFromTheLiveHeap(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	runtime.GC() // the live heap is known after a collection, 0 before the first
	var live uint64
	if prev := apply(func(l uint64) int { live = l; return 1234 }); prev != 100 {
		t.Errorf("apply returned %d, want the 100 it replaced", prev)
	}
	if got := debug.SetGCPercent(100); got != 1234 {
		t.Errorf("after apply the percent is %d, want the policy's 1234", got)
	}
	if live == 0 {
		t.Error("the policy saw a live heap of 0 bytes")
	}
}

func TestRunRestoresThePercentItFound(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	Run(ctx, func(uint64) int { called = true; return 1234 })
	if !called {
		t.Error("Run did not apply the policy at once")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after Run the percent is %d, want the 100 it found", got)
	}
}

func TestRunLeavesTheUsersGOGC(t *testing.T) {
	t.Setenv("GOGC", "300")
	before := debug.SetGCPercent(300)
	defer debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Run(ctx, func(uint64) int { t.Error("policy called although GOGC is set"); return 1 })
	if got := debug.SetGCPercent(300); got != 300 {
		t.Errorf("percent %d, want the user's 300", got)
	}
}
