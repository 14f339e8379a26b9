package reports

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCoarseBucket(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {time.Microsecond, 0}, {2 * time.Microsecond, 8}, {1200 * time.Microsecond, 82}, {time.Millisecond, 80}, {1100 * time.Microsecond, 81}, {time.Second, 160}} {
		if got := CoarseBucket(tc.d); got != tc.want {
			t.Errorf("CoarseBucket(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestOpWindowsRoundTripAndMerge(t *testing.T) {
	w := NewOpWindows(200*time.Millisecond, map[int]map[int]int64{
		0: {80: 3, 82: 1}, 7: {160: 1}, 9: {}, 300: {81: 70000, 79: 2},
	})
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var back OpWindows
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want := &OpWindows{WindowMs: 200, Windows: []OpWindow{
		{0, []int{80, 82}, []int64{3, 1}}, {7, []int{160}, []int64{1}}, {300, []int{79, 81}, []int64{2, 70000}}}}
	if !reflect.DeepEqual(&back, want) || !reflect.DeepEqual(w, want) {
		t.Fatalf("round trip: %s → %+v, want %+v", b, back, want)
	}
	// A shard that started two windows later.
	MergeOpWindows(&back, OpWindows{WindowMs: 200, Windows: []OpWindow{{5, []int{160, 170}, []int64{2, 1}}}}, 2)
	if got := back.Windows[1]; got.Index != 7 || !reflect.DeepEqual(got.Buckets, []int{160, 170}) || !reflect.DeepEqual(got.Counts, []int64{3, 1}) {
		t.Errorf("merged window 7: %+v", got)
	}
	if NewOpWindows(time.Second, nil) != nil {
		t.Error("no latencies: windows")
	}
	for _, bad := range []string{`{"window_ms":0,"buckets_per_doubling":8,"counts":""}`, `{"window_ms":100,"buckets_per_doubling":16,"counts":""}`,
		`{"window_ms":100,"buckets_per_doubling":8,"counts":"!!"}`, `{"window_ms":100,"buckets_per_doubling":8,"counts":"AAU="}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "windows") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestMergeWindowsPlacesEachShardByItsStart: shards' windows add up, each
// placed by its start; an input without windows leaves the operation
// without.
func TestMergeWindowsPlacesEachShardByItsStart(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	win := func(i int, n int64) *OpWindows {
		return &OpWindows{WindowMs: 200, Windows: []OpWindow{{Index: i, Buckets: []int{80}, Counts: []int64{n}}}}
	}
	a := &Result{StartedAt: t0, Ops: map[string]*Op{OpRefresh: {Count: 2, Windows: win(3, 2)}, OpAPI: {Count: 1, Windows: win(0, 1)}}}
	b := &Result{StartedAt: t0.Add(400 * time.Millisecond), Ops: map[string]*Op{OpRefresh: {Count: 5, Windows: win(1, 5)}, OpAPI: {Count: 1}}}
	out := &Result{StartedAt: t0, Ops: map[string]*Op{OpRefresh: {}, OpAPI: {}}}
	mergeWindows(out, []*Result{a, b})
	want := &OpWindows{WindowMs: 200, Windows: []OpWindow{{3, []int{80}, []int64{7}}}}
	if got := out.Ops[OpRefresh].Windows; !reflect.DeepEqual(got, want) {
		t.Errorf("refresh windows %+v, want %+v", got, want)
	}
	if got := out.Ops[OpAPI].Windows; got != nil {
		t.Errorf("api windows %+v, want none (an input has none)", got)
	}
}
