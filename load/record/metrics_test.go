package record

import (
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/stampede-load/stampede/reports"
)

func TestConstHistogramBucketsLikeTheQuantiles(t *testing.T) {
	h := reports.NewHistogram()
	// µs; 5 s is recorded as 4,997,120..5,001,215 µs at 3 significant
	// figures, and its quantile reads 5,001,215: above 5 s.
	values := []int64{50, 100, 101, 1000, 1001, 5_000_000, 7_000_000, 12_000_000}
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	var m dto.Metric
	if err := constHistogram(descEngineLag, h, 2, nil...).Write(&m); err != nil {
		t.Fatal(err)
	}
	hist := m.GetHistogram()
	want := map[float64]uint64{0.0001: 2, 0.00025: 3, 0.0005: 3, 0.001: 4, 0.0025: 5, 0.005: 5, 0.01: 5, 0.025: 5,
		0.05: 5, 0.1: 5, 0.25: 5, 0.5: 5, 1: 5, 2.5: 5, 5: 5, 10: 7}
	if len(hist.GetBucket()) != len(want) {
		t.Fatalf("%d buckets, want %d", len(hist.GetBucket()), len(want))
	}
	var b strings.Builder
	for _, bk := range hist.GetBucket() {
		if bk.GetCumulativeCount() != want[bk.GetUpperBound()] {
			b.WriteString(" ")
			b.WriteString(bk.String())
		}
	}
	if b.Len() > 0 {
		t.Errorf("wrong buckets:%s", b.String())
	}
	if hist.GetSampleCount() != uint64(len(values))+2 {
		t.Errorf("count %d, want %d (out of range values included)", hist.GetSampleCount(), len(values)+2)
	}
	var sum float64
	for _, v := range values {
		sum += float64(v) / 1e6
	}
	if math.Abs(hist.GetSampleSum()-sum) > sum*1e-3 {
		t.Errorf("sum %g s, want %g s within 0.1%%", hist.GetSampleSum(), sum)
	}
}
