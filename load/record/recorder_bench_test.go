package record

import (
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

// BenchmarkRecorderAnswered measures recording one answered request.
func BenchmarkRecorderAnswered(b *testing.B) {
	start := time.Now()
	rec := NewRecorder(1, start, time.Minute, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := start.Add(time.Duration(i%600) * 100 * time.Millisecond)
		rec.Record(0, Fact{Kind: FactAnswered, Op: OpRefresh, Class: model.ClassOK, Wire: at, Done: at, Latency: 3 * time.Millisecond, Service: 2 * time.Millisecond})
	}
}
