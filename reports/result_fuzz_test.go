package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// fuzzSeedResult is a small result with histograms, events and a timeline,
// encoded as result.json.
func fuzzSeedResult(f *testing.F, partial bool) []byte {
	f.Helper()
	h := NewHistogram()
	for _, d := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 250 * time.Millisecond, 2 * time.Hour} {
		RecordLatency(h, d)
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		f.Fatal(err)
	}
	sum := Summarize(h)
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	rec := 1.5
	r := &Result{
		Schema: Schema, RunID: "20261128-000000-abcdef", ToolVersion: "v0.1.0",
		Profile: profiles.Default(), Target: Target{Kind: "embedded", URL: "http://127.0.0.1:1234"},
		StartedAt: start, EndedAt: start.Add(2 * time.Second), Partial: partial, Shard: Shard{Count: 1},
		Ops: map[string]*Op{
			OpSignIn:  {Count: 3, OK: 3, Errors: map[string]int64{}, LatencyMs: sum, ServiceMs: &sum, HDR: enc, ServiceHDR: enc, OutOfRange: 1},
			OpRefresh: {Count: 4, OK: 2, Errors: map[string]int64{"http_5xx": 1, "cancelled": 1}, LatencyMs: sum, HDR: enc},
			OpAPI:     {Count: 0, Errors: map[string]int64{}},
		},
		Sessions: Sessions{ByStatus: map[string]int64{"active": 2, "revoked": 1}, ForcedSignouts: 1},
		Requests: Requests{Issued: 5, Settled: 5, OK: 4, UserVisibleErrors: 1},
		Events:   []Event{{Index: 0, Type: "key_rotation", At: "50%", StartS: 1, EndS: 1, Burst10s: 3, RecoveryS: &rec}},
		Timeline: Timeline{BucketMs: 100, RefreshAttempts: []int64{0, 2, 1}, RefreshOK: []int64{0, 1, 1},
			SignedIn: []int64{1, 3, 3}, RefreshLatencyMs: LatencySeries{WindowMs: 1000, P50: []float64{1}, P99: []float64{3}, Max: []float64{250}}},
		Thresholds: []ThresholdResult{{Expr: "refresh.p99 < 250ms", Value: 250, OK: false, AbortOnFail: true, Aborted: true}},
		Verdict:    VerdictFail,
	}
	Analyze(r)
	b, err := json.Marshal(r)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzReadResult holds the result decoder (what stampede report, compare
// and merge read) to its contract on any bytes: no panic, no hang; an error
// or a result that re-encodes to JSON that decodes to the same JSON again;
// every histogram of an accepted result decodes; every renderer either
// renders it or returns an error.
func FuzzReadResult(f *testing.F) {
	f.Add(fuzzSeedResult(f, false))
	f.Add(fuzzSeedResult(f, true))
	f.Add([]byte(`{"schema":"stampede.result/v1"}`))
	f.Add([]byte(`{"schema":"stampede.result/v1","ops":{"refresh":null}}`))
	f.Add([]byte(`{"schema":"stampede.result/v1","ops":{"refresh":{"count":1,"ok":1,"hdr":"HISTFAAAAB94nJNpmSzMwMDAxgABzFCaEUSPAmYAAUQAFw=="}}}`))
	f.Add([]byte(`{"schema":"stampede.result/v1","ops":{"api":{"hdr":"` + hostileHDR(1<<60, 1<<62, 3) + `"}}}`))
	f.Add([]byte(`{"schema":"stampede.result/v1","timeline":{"bucket_ms":-1,"refresh_attempts":[1,2]},"herd":{"peak_rps":1e308}}`))
	f.Add([]byte(`{"schema":"other/v9"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResult(data)
		if err != nil {
			if r != nil || err.Error() == "" {
				t.Fatalf("error %q with result %v", err, r)
			}
			return
		}
		for name, o := range r.Ops {
			for _, enc := range []string{o.HDR, o.ServiceHDR} {
				if enc == "" {
					continue
				}
				h, err := DecodeHistogram(enc)
				if err != nil {
					t.Fatalf("ops.%s: accepted histogram does not decode: %v", name, err)
				}
				_ = Summarize(h)
			}
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted result does not encode: %v", err)
		}
		back, err := DecodeResult(enc)
		if err != nil {
			t.Fatalf("re-encoded result does not decode: %v\n%s", err, enc)
		}
		again, err := json.Marshal(back)
		if err != nil || !bytes.Equal(enc, again) {
			t.Fatalf("re-encoding changed the result (%v):\n%s\n%s", err, enc, again)
		}
		for _, format := range Formats() {
			if err := Render(io.Discard, r, format); err != nil && !errors.Is(err, ErrInvalidResult) {
				t.Fatalf("render %s: %v", format, err)
			}
		}
	})
}
