package backend

import (
	"testing"
)

// reportCPU adds the metric cpu-ns/op: the process's CPU time per
// iteration, which, unlike ns/op, other work on a shared machine barely
// moves. Call it before the benchmark loop.
func reportCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}
