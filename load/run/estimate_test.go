package run

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

func TestEstimateMemoryGrowsWithFleetAndTimeline(t *testing.T) {
	p := profiles.Default()
	p.Clients = 1000
	small := EstimateMemory(p, 0, 1)
	if small.Bytes < baseBytes || small.Bytes > 128<<20 {
		t.Errorf("1,000 clients for a minute: %s", Bytes(small.Bytes))
	}
	p.Clients = 1_000_000
	if e := EstimateMemory(p, 0, 1); e.Bytes < 4<<30 {
		t.Errorf("a million clients: %s", Bytes(e.Bytes))
	}
	if e := EstimateMemory(p, 3, 4); e.Clients != 250_000 {
		t.Errorf("shard 3/4 holds %d clients", e.Clients)
	}
	p.Clients = 1000
	p.Duration = profiles.Duration(20000 * time.Hour)
	e := EstimateMemory(p, 0, 1)
	if e.Buckets != 720_000_001 || e.Bytes < 600<<30 {
		t.Errorf("20000 h: %d buckets, %s", e.Buckets, Bytes(e.Bytes))
	}
	p.Clients = profiles.MaxClients
	p.Duration = profiles.Duration(1<<62 - 1)
	if e := EstimateMemory(p, 0, 1); e.Bytes < 1<<40 {
		t.Errorf("the largest figures: %s, less than a terabyte (wrapped?)", Bytes(e.Bytes))
	}
	if satMul(1<<40, 1<<40) != ^uint64(0) || satAdd(^uint64(0), 1) != ^uint64(0) {
		t.Error("satMul or satAdd wraps")
	}
}

func TestCheckMemoryRefusesWhatCannotFit(t *testing.T) {
	p := profiles.Default()
	if err := CheckMemory(p, 0, 1); err != nil {
		t.Fatalf("the default profile: %v", err)
	}
	p.Duration = profiles.Duration(20000 * time.Hour)
	err := CheckMemory(p, 0, 1)
	var me *MemoryError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("CheckMemory = %v", err)
	}
}
