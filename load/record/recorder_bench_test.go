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

// BenchmarkRecorderAnsweredError measures recording one failed answer: the
// same, and its count by status and code (one lookup in a small map).
func BenchmarkRecorderAnsweredError(b *testing.B) {
	start := time.Now()
	rec := NewRecorder(1, start, time.Minute, 0)
	body := `{"errors":[{"code":"token_expired","message":"session token rejected: token is expired"}]}`
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := start.Add(time.Duration(i%600) * 100 * time.Millisecond)
		rec.Record(0, Fact{Kind: FactAnswered, Op: OpAPI, Class: model.Class401, HTTPStatus: 401, Code: "token_expired", Body: body,
			Wire: at, Done: at, Latency: 3 * time.Millisecond, Service: 2 * time.Millisecond})
	}
}
