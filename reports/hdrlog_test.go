package reports

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestHistogramLogsReadBackWithHdrHistogramsReader writes a result's
// interval logs and reads them with hdrhistogram-go's own log reader.
func TestHistogramLogsReadBackWithHdrHistogramsReader(t *testing.T) {
	r := newFleetSim().result(t, 1, 4)
	r.Ops[OpForegroundRecovery] = &Op{Errors: map[string]int64{}} // no histogram: no log
	dir := t.TempDir()
	if err := WriteHistogramLogs(dir, r); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"api.hlog", "get_token.hlog", "refresh.hlog", "sign_in.hlog"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v (and no temporary files)", names, want)
	}
	for _, op := range []string{OpSignIn, OpRefresh, OpAPI, OpGetToken} {
		f, err := os.Open(filepath.Join(dir, HistogramLogName(op)))
		if err != nil {
			t.Fatal(err)
		}
		lr := hdrhistogram.NewHistogramLogReader(f)
		var got []*hdrhistogram.Histogram
		for {
			h, err := lr.NextIntervalHistogram()
			if err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			if h == nil {
				break
			}
			got = append(got, h)
		}
		f.Close()
		if len(got) != 1 {
			t.Fatalf("%s: %d intervals, want 1", op, len(got))
		}
		h, want := got[0], decoded(t, r.Ops[op].HDR)
		if h.TotalCount() != want.TotalCount() || h.TotalCount() == 0 || !h.Equals(want) {
			t.Errorf("%s: read back %d values, want %d (the same histogram)", op, h.TotalCount(), want.TotalCount())
		}
		if Summarize(h) != r.Ops[op].LatencyMs {
			t.Errorf("%s: summary %+v, want %+v", op, Summarize(h), r.Ops[op].LatencyMs)
		}
		// The interval runs from the start of the run for its length.
		if h.StartTimeMs() != r.StartedAt.UnixMilli() || h.EndTimeMs() != r.EndedAt.UnixMilli() {
			t.Errorf("%s: interval %d..%d ms, want %d..%d", op, h.StartTimeMs(), h.EndTimeMs(), r.StartedAt.UnixMilli(), r.EndedAt.UnixMilli())
		}
	}
}

func TestHistogramLogsRefuseACorruptHistogram(t *testing.T) {
	r := newFleetSim().result(t, 0, 1)
	r.Ops[OpRefresh].HDR = "garbage"
	if err := WriteHistogramLogs(t.TempDir(), r); err == nil {
		t.Error("wrote a log of a corrupt histogram")
	}
}
