package reports

import (
	"bytes"
	"fmt"
	"path/filepath"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HistogramLogName is the file WriteHistogramLogs writes for operation op.
func HistogramLogName(op string) string { return op + ".hlog" }

// WriteHistogramLogs writes, for every operation of r that has a latency
// histogram, an HdrHistogram interval log (the standard .hlog format that
// HdrHistogram's HistogramLogProcessor and hdrhistogram-go's
// HistogramLogReader read) named HistogramLogName(op) in dir, atomically.
//
// A result keeps one histogram per operation for the whole run, not one
// per interval, so each log holds a single interval: from started_at to
// ended_at, timestamps relative to the #[StartTime] / #[BaseTime] lines
// (the start of the run, whole seconds since the epoch as the library
// writes them). Values are latencies from the intended start in
// microseconds, as in result.json; the library scales the Interval_Max
// column by 1e6 (its ns→ms convention), so that column reads in seconds:
// pass HistogramLogProcessor -outputValueUnitRatio 1000 for milliseconds.
// Histograms are untagged, so HistogramLogProcessor reads them without -tag.
func WriteHistogramLogs(dir string, r *Result) error {
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil || o.HDR == "" {
			continue
		}
		h, err := DecodeHistogram(o.HDR)
		if err != nil {
			return fmt.Errorf("%w: ops.%s.hdr: %w", ErrInvalidResult, name, err)
		}
		b, err := histogramLog(r, name, h)
		if err != nil {
			return fmt.Errorf("histogram log of %s: %w", name, err)
		}
		if err := WriteAtomic(filepath.Join(dir, HistogramLogName(name)), b); err != nil {
			return err
		}
	}
	return nil
}

// histogramLog is the interval log of operation op of r holding h.
func histogramLog(r *Result, op string, h *hdrhistogram.Histogram) ([]byte, error) {
	start := r.StartedAt.UnixMilli()
	end := max(r.EndedAt.UnixMilli(), start)
	h.SetStartTimeMs(start)
	h.SetEndTimeMs(end)
	var b bytes.Buffer
	w := hdrhistogram.NewHistogramLogWriter(&b)
	w.SetBaseTime(start)
	steps := []func() error{
		w.OutputLogFormatVersion,
		func() error {
			return w.OutputComment(fmt.Sprintf(" stampede %s run %s shard %d/%d, operation %s: latency from intended start, microseconds",
				r.ToolVersion, r.RunID, r.Shard.Index, max(r.Shard.Count, 1), op))
		},
		func() error { return w.OutputStartTime(start) },
		func() error { return w.OutputBaseTime(start) },
		w.OutputLegend,
		func() error { return w.OutputIntervalHistogram(h) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
