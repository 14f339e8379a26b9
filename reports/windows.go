package reports

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// OpWindows is one operation's latencies over time, coarsely: for each
// window of WindowMs from the start of the run, how many latencies fell
// in each coarse bucket. Compare reads it to see how clustered in time an
// operation's latencies are (docs/compare.md#latencies-clustered-in-time);
// the exact distribution is the operation's HDR histogram. In result.json
// it is {"window_ms", "buckets_per_doubling", "counts"}, counts being
// base64 of unsigned varints: per window, its index less the previous
// window's (the first: its index), its number of buckets, then per bucket
// its index less the previous bucket's (the first: its index) and its count.
type OpWindows struct {
	WindowMs int
	// Windows are the windows that hold a latency, in time order.
	Windows []OpWindow
}

// OpWindow is one window of OpWindows: its index (it starts Index ×
// WindowMs after the run's start) and its latencies' coarse buckets
// (CoarseBucket, ascending) with their counts.
type OpWindow struct {
	Index   int
	Buckets []int
	Counts  []int64
}

// opWindowsJSON is OpWindows in result.json.
type opWindowsJSON struct {
	WindowMs           int    `json:"window_ms"`
	BucketsPerDoubling int    `json:"buckets_per_doubling"`
	Counts             string `json:"counts"`
}

// MarshalJSON writes w compactly (see OpWindows).
func (w OpWindows) MarshalJSON() ([]byte, error) {
	var b []byte
	prev := 0
	for _, x := range w.Windows {
		b = binary.AppendUvarint(b, uint64(x.Index-prev))
		prev = x.Index
		b = binary.AppendUvarint(b, uint64(len(x.Buckets)))
		pb := 0
		for k, bu := range x.Buckets {
			b = binary.AppendUvarint(b, uint64(bu-pb))
			pb = bu
			b = binary.AppendUvarint(b, uint64(x.Counts[k]))
		}
	}
	return json.Marshal(opWindowsJSON{WindowMs: w.WindowMs, BucketsPerDoubling: CoarseBucketsPerDoubling, Counts: base64.StdEncoding.EncodeToString(b)})
}

// errWindows is a windows field that does not decode.
var errWindows = errors.New("windows: counts do not decode")

// UnmarshalJSON reads w as MarshalJSON writes it.
func (w *OpWindows) UnmarshalJSON(data []byte) error {
	var j opWindowsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.BucketsPerDoubling != CoarseBucketsPerDoubling || j.WindowMs <= 0 {
		return fmt.Errorf("windows: want window_ms > 0 and buckets_per_doubling %d, got %d and %d", CoarseBucketsPerDoubling, j.WindowMs, j.BucketsPerDoubling)
	}
	b, err := base64.StdEncoding.DecodeString(j.Counts)
	if err != nil {
		return fmt.Errorf("%w: %w", errWindows, err)
	}
	next := func() (int, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > math.MaxInt32 {
			return 0, false
		}
		b = b[n:]
		return int(v), true
	}
	*w = OpWindows{WindowMs: j.WindowMs}
	index := 0
	for len(b) > 0 {
		d, ok1 := next()
		k, ok2 := next()
		if !ok1 || !ok2 || k > len(b) {
			return errWindows
		}
		index += d
		x := OpWindow{Index: index, Buckets: make([]int, k), Counts: make([]int64, k)}
		bu := 0
		for i := range k {
			db, ok1 := next()
			c, ok2 := next()
			if !ok1 || !ok2 {
				return errWindows
			}
			bu += db
			x.Buckets[i], x.Counts[i] = bu, int64(c)
		}
		w.Windows = append(w.Windows, x)
	}
	return nil
}

// CoarseBucketsPerDoubling is the resolution of the coarse buckets: 8
// per doubling, each about 9% wide.
const CoarseBucketsPerDoubling = 8

// CoarseBucket is the coarse bucket of latency d: the smallest b with
// d ≤ 2^(b/8) µs (0 for anything up to 1 µs).
func CoarseBucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return int(math.Ceil(CoarseBucketsPerDoubling * math.Log2(us)))
}

// Count is how many latencies w holds.
func (w OpWindow) Count() int64 {
	var n int64
	for _, c := range w.Counts {
		n += c
	}
	return n
}

// MergeOpWindows adds src, whose run started off windows after the one
// dst counts from, into dst (both of the same WindowMs).
func MergeOpWindows(dst *OpWindows, src OpWindows, off int) {
	byIndex := map[int]map[int]int64{}
	add := func(ws []OpWindow, off int) {
		for _, w := range ws {
			m := byIndex[w.Index+off]
			if m == nil {
				m = map[int]int64{}
				byIndex[w.Index+off] = m
			}
			for k, b := range w.Buckets {
				m[b] += w.Counts[k]
			}
		}
	}
	add(dst.Windows, 0)
	add(src.Windows, off)
	dst.Windows = dst.Windows[:0]
	for _, i := range slices.Sorted(maps.Keys(byIndex)) {
		dst.Windows = append(dst.Windows, windowOf(i, byIndex[i]))
	}
}

// windowOf builds window i from its bucket counts.
func windowOf(i int, counts map[int]int64) OpWindow {
	w := OpWindow{Index: i}
	for _, b := range slices.Sorted(maps.Keys(counts)) {
		if counts[b] != 0 {
			w.Buckets = append(w.Buckets, b)
			w.Counts = append(w.Counts, counts[b])
		}
	}
	return w
}

// NewOpWindows builds an OpWindows of width from counts per window index
// and coarse bucket; nil when there are none.
func NewOpWindows(width time.Duration, counts map[int]map[int]int64) *OpWindows {
	ow := &OpWindows{WindowMs: int(width / time.Millisecond)}
	for _, i := range slices.Sorted(maps.Keys(counts)) {
		if w := windowOf(i, counts[i]); len(w.Buckets) > 0 {
			ow.Windows = append(ow.Windows, w)
		}
	}
	if len(ow.Windows) == 0 {
		return nil
	}
	return ow
}

// mergeWindows gives each operation of out, the merge of results, the sum
// of their latency windows, placed by each run's start. An operation some
// input has no windows for (an older result), or windows of another
// width, gets none: compare then treats its latencies as independent.
func mergeWindows(out *Result, results []*Result) {
	for name, m := range out.Ops {
		width := 0
		ok := true
		for _, r := range results {
			o := r.Ops[name]
			switch {
			case o == nil || o.Count == 0:
				continue
			case o.Windows == nil || (width != 0 && o.Windows.WindowMs != width):
				ok = false
			default:
				width = o.Windows.WindowMs
			}
		}
		if !ok || width <= 0 {
			continue
		}
		merged := &OpWindows{WindowMs: width}
		for _, r := range results {
			if o := r.Ops[name]; o != nil && o.Windows != nil {
				MergeOpWindows(merged, *o.Windows, offset(out.StartedAt, r.StartedAt, width))
			}
		}
		m.Windows = merged
	}
}
