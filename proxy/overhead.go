package proxy

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/reports"
)

// overhead is the proxy's own time per request (docs/proxy.md#what-the-proxy-costs):
// from ServeHTTP's start to its end, less the time it waited on others
// (the client's request body, a fault's injected delay, the upstream's
// answer and the copy of its body to the client). Safe for concurrent
// use; its lock is its own, not the fleet's.
type overhead struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func newOverhead() *overhead { return &overhead{h: reports.NewHistogram()} }

// record adds one request's own time: took in all, less waited.
func (o *overhead) record(took, waited time.Duration) {
	o.mu.Lock()
	reports.RecordLatency(o.h, took-waited)
	o.mu.Unlock()
}

// summary is the histogram's summary in milliseconds and its encoding;
// nil before any request.
func (o *overhead) summary() (*reports.Summary, string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.h.TotalCount() == 0 {
		return nil, "", nil
	}
	s := reports.Summarize(o.h)
	enc, err := reports.EncodeHistogram(o.h)
	if err != nil {
		return nil, "", err
	}
	return &s, enc, nil
}

// copyBufs are the buffers that copy answers' bodies to the clients: a
// pooled 32 KiB each, where io.Copy would allocate one per request (the
// proxy's ResponseWriter wrapper hides the server's own pooled copy).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
