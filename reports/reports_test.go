package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleResult is a small hand-made result.
func sampleResult(t *testing.T) *Result {
	t.Helper()
	h := NewHistogram()
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 40 * time.Millisecond} {
		RecordLatency(h, d)
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	sum := Summarize(h)
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	return &Result{
		Schema: Schema, RunID: "20261128-000000-abcdef", ToolVersion: "v0.1.0",
		Profile: profiles.Default(), Target: Target{Kind: "embedded", URL: "http://127.0.0.1:1234"},
		StartedAt: start, EndedAt: start.Add(60 * time.Second), Shard: Shard{Count: 1},
		Ops: map[string]*Op{
			OpSignIn:  {Count: 4, OK: 4, Errors: map[string]int64{}, LatencyMs: sum, ServiceMs: &sum, HDR: enc},
			OpRefresh: {Count: 5, OK: 3, Errors: map[string]int64{"http_5xx": 1, "timeout": 1}, LatencyMs: sum, ServiceMs: &sum, HDR: enc},
		},
		Sessions: Sessions{ByStatus: map[string]int64{"active": 3, "revoked": 1}, ForcedSignouts: 1, ReSignIns: 0},
		Requests: Requests{Issued: 10, Settled: 10, OK: 8, UserVisibleErrors: 2},
		Engine: Engine{LagMs: LagSummary{P50: 0.05, P99: 0.8, Max: 3}, Clients: 4, Goroutines: 12, MaxRSSBytes: 64 << 20,
			FDLimit: 20000, Connections: Connections{Dials: 5, TLSHandshakes: 5, PeakOpen: 4, PortsExhausted: 1, SourceAddrs: 1}},
		Herd: Herd{PeakRPS: 30, MeanRPS: 26.7, PeakToMean: 1.125, MaxInflight: 7, Amplification: 1.25,
			Retries: 5, RetriesShare: 0.1, Dispersion: 2.33},
		Thresholds: []ThresholdResult{{Expr: "refresh.p99 < 250ms", Value: 40, OK: true},
			{Expr: "requests.lost == 0", Value: 0, OK: true}},
		Verdict: VerdictPass,
	}
}

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, sampleResult(t)); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("summary changed (go test ./reports -update to accept):\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSummarizeAndHistogramRoundTrip(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		RecordLatency(h, time.Duration(i)*time.Millisecond)
	}
	if RecordLatency(h, 2*time.Hour) {
		t.Error("a 2 h latency fit a histogram bounded at 1 h")
	}
	s := Summarize(h)
	near := func(name string, got, want float64) {
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%s = %v, want ≈ %v", name, got, want)
		}
	}
	near("p50", s.P50, 500)
	near("p99", s.P99, 990)
	near("max", s.Max, 1000)
	near("min", s.Min, 1)
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if back.TotalCount() != 1000 || Summarize(back) != s {
		t.Errorf("round trip changed the histogram: %d values, %+v", back.TotalCount(), Summarize(back))
	}
	if Summarize(NewHistogram()) != (Summary{}) {
		t.Error("empty histogram summary not zero")
	}
	if _, err := DecodeHistogram("not a histogram"); err == nil {
		t.Error("decoded garbage")
	}
}

func TestWriteFileIsAtomicAndReadFileChecksSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.json")
	r := sampleResult(t)
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.RunID != r.RunID || back.Ops[OpRefresh].Errors["timeout"] != 1 || !reflect.DeepEqual(back.Profile, r.Profile) {
		t.Errorf("round trip lost data: %+v", back)
	}
	b, _ := os.ReadFile(path)
	for _, field := range []string{`"schema": "stampede.result/v1"`, `"run_id"`, `"partial"`, `"latency_ms"`, `"p999"`, `"hdr"`, `"by_status"`, `"timeline"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("result.json lacks %s", field)
		}
	}
	if err := os.WriteFile(path, []byte(`{"schema":"other/v9"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "other/v9") {
		t.Errorf("want schema error, got %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "result.json"), r); err == nil {
		t.Error("wrote into a missing directory")
	}
}
