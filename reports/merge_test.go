package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stampede-load/stampede/profiles"
)

// fleetSim is a made-up fleet whose clients each leave a deterministic
// trace: latencies, counters and timeline counts. Recording all of them
// gives the whole run's result; recording the clients ≡ i (mod n) gives
// shard i's, so a merge can be held against the whole exactly.
type fleetSim struct {
	clients int
	start   time.Time
	buckets int
}

var mergeStart = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func newFleetSim() fleetSim { return fleetSim{clients: 40, start: mergeStart, buckets: 32} }

func (f fleetSim) profile() profiles.Profile {
	p := profiles.Default()
	p.Clients = f.clients
	p.Duration = profiles.Duration(3 * time.Second)
	p.Ramp = profiles.Duration(600 * time.Millisecond)
	p.TimeScale = 60
	p.Seed = 7
	p.Thresholds = []profiles.Threshold{{Expr: "refresh.p99 < 250ms"}, {Expr: "requests.lost == 0"}}
	return p
}

// result records the clients of shard i of n (n = 1: all of them).
func (f fleetSim) result(t *testing.T, i, n int) *Result {
	t.Helper()
	type hists struct{ lat, svc *hdrhistogram.Histogram }
	ops := map[string]*Op{}
	hs := map[string]hists{}
	for _, name := range []string{OpSignIn, OpRefresh, OpAPI, OpGetToken} {
		ops[name] = &Op{Errors: map[string]int64{}}
		hs[name] = hists{NewHistogram(), NewHistogram()}
	}
	tl := Timeline{BucketMs: 100}
	series := []*[]int64{&tl.RefreshAttempts, &tl.RefreshOK, &tl.RefreshErrors, &tl.RefreshInflight, &tl.APICalls,
		&tl.API401, &tl.ForcedSignouts, &tl.SignedIn, &tl.SignedOut, &tl.Background, &tl.Offline, &tl.ValidToken}
	for _, s := range series {
		*s = make([]int64, f.buckets)
	}
	r := &Result{
		Schema: Schema, RunID: "20261128-090000-5eed07", ToolVersion: "v0.9.0", Profile: f.profile(),
		Target: Target{Kind: "fapi", URL: "http://stampede-backend:8787"}, StartedAt: f.start,
		EndedAt: f.start.Add(3200 * time.Millisecond), Shard: Shard{Index: i, Count: n},
		Sessions: Sessions{ByStatus: map[string]int64{}},
		Events: []Event{{Index: 0, Type: "key_rotation", At: "50%", StartS: 1.5, EndS: 1.5},
			{Index: 1, Type: "outage", At: "1m0s", StartS: 1, EndS: 1.5}},
	}
	for c := range f.clients {
		if c%n != i {
			continue
		}
		rng := rand.New(rand.NewPCG(7, uint64(c)))
		r.Engine.Clients++
		for _, name := range []string{OpSignIn, OpRefresh, OpAPI, OpGetToken} {
			k := 1 + rng.IntN(6)
			if name == OpSignIn {
				k = 1
			}
			for range k {
				o, h := ops[name], hs[name]
				o.Count++
				switch x := rng.IntN(20); {
				case x == 0:
					o.Errors["http_5xx"]++
					o.ErrorAnswers = AddErrorAnswers(o.ErrorAnswers, []ErrorAnswer{{Class: "http_5xx", Status: 503,
						Code: "overloaded", Count: 1, Sample: `{"errors":[{"code":"overloaded"}]}`}})
				case x == 1:
					o.Errors["timeout"]++
					o.ErrorAnswers = AddErrorAnswers(o.ErrorAnswers, []ErrorAnswer{{Class: "timeout", Count: 1}})
				default:
					o.OK++
				}
				lat := time.Duration(rng.ExpFloat64() * float64(8*time.Millisecond))
				RecordLatency(h.lat, lat)
				if name != OpGetToken {
					RecordLatency(h.svc, lat/2)
				}
			}
		}
		b := rng.IntN(f.buckets)
		tl.RefreshAttempts[b] += 3
		tl.RefreshOK[b] += 2
		tl.RefreshErrors[min(b+1, f.buckets-1)]++
		tl.APICalls[rng.IntN(f.buckets)] += 4
		if c%5 == 0 {
			tl.API401[15]++
			tl.ForcedSignouts[16]++
			r.Sessions.ForcedSignouts++
			r.Sessions.ReSignIns++
			r.Events[1].Clients++
		}
		for s := b; s < f.buckets; s++ {
			tl.SignedIn[s]++
			tl.ValidToken[s]++
		}
		tl.RefreshInflight[b]++
		status := "active"
		if c%7 == 0 {
			status = "revoked"
		}
		r.Sessions.ByStatus[status]++
		r.Requests.Issued += 4
		r.Requests.Settled += 4
		r.Requests.OK += 4
		r.Herd.Retries += int64(c % 2)
		r.Herd.DuplicateRefreshes += int64(c % 3 / 2)
		r.Engine.Goroutines += 3
	}
	if i == 0 {
		r.Events[0].Sessions = int64(f.clients / 2) // only shard 0 acts on the backend
	}
	r.Ops = ops
	r.Engine.LagMs = LagSummary{P50: 0.1 * float64(i+1), P99: float64(i + 1), Max: 2 * float64(i+1)}
	r.Engine.MaxRSSBytes = int64(i+1) << 20
	r.Engine.FDLimit = uint64(20000 - i)
	r.Engine.Connections = Connections{Dials: 100, TLSHandshakes: 90, PeakOpen: 50, PortsExhausted: int64(i), FDsExhausted: 1, SourceAddrs: i + 1}
	for name, o := range ops {
		var err error
		if o.HDR, err = EncodeHistogram(hs[name].lat); err != nil {
			t.Fatal(err)
		}
		o.LatencyMs = Summarize(hs[name].lat)
		if name != OpGetToken {
			if o.ServiceHDR, err = EncodeHistogram(hs[name].svc); err != nil {
				t.Fatal(err)
			}
			s := Summarize(hs[name].svc)
			o.ServiceMs = &s
		}
	}
	for w := range 4 {
		v := float64(10*(i+1) + w)
		tl.RefreshLatencyMs.P50 = append(tl.RefreshLatencyMs.P50, v/2)
		tl.RefreshLatencyMs.P99 = append(tl.RefreshLatencyMs.P99, v)
		tl.RefreshLatencyMs.Max = append(tl.RefreshLatencyMs.Max, 2*v)
	}
	tl.RefreshLatencyMs.WindowMs = 1000
	r.Timeline = tl
	Analyze(r)
	if err := Evaluate(r, r.Profile.Thresholds); err != nil {
		t.Fatal(err)
	}
	return r
}

func (f fleetSim) shards(t *testing.T, n int) []*Result {
	out := make([]*Result, n)
	for i := range n {
		out[i] = f.result(t, i, n)
	}
	return out
}

// clone returns deep copies of rs (through JSON, as result.json would).
func clone(t *testing.T, rs []*Result) []*Result {
	t.Helper()
	out := make([]*Result, len(rs))
	for i, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = new(Result)
		if err := json.Unmarshal(b, out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func decoded(t *testing.T, enc string) *hdrhistogram.Histogram {
	t.Helper()
	h, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestMergeEqualsTheWholeRun(t *testing.T) {
	f := newFleetSim()
	whole := f.result(t, 0, 1)
	shards := f.shards(t, 4)
	// Any order.
	shards[0], shards[2] = shards[2], shards[0]
	m, err := Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if m.Shard != (Shard{Index: 0, Count: 1}) || m.RunID != whole.RunID || m.Partial {
		t.Errorf("header: shard %+v run %s partial %v", m.Shard, m.RunID, m.Partial)
	}
	if !m.StartedAt.Equal(whole.StartedAt) || !m.EndedAt.Equal(whole.EndedAt) {
		t.Errorf("times %s..%s, want %s..%s", m.StartedAt, m.EndedAt, whole.StartedAt, whole.EndedAt)
	}
	for name, w := range whole.Ops {
		g := m.Ops[name]
		if g == nil {
			t.Errorf("ops.%s missing", name)
			continue
		}
		if g.Count != w.Count || g.OK != w.OK || !reflect.DeepEqual(g.Errors, w.Errors) {
			t.Errorf("ops.%s counts %d/%d %v, want %d/%d %v", name, g.Count, g.OK, g.Errors, w.Count, w.OK, w.Errors)
		}
		// What the server said adds up as the errors do.
		if !reflect.DeepEqual(g.ErrorAnswers, w.ErrorAnswers) || len(w.ErrorAnswers) == 0 && w.ErrorCount() > 0 {
			t.Errorf("ops.%s.error_answers %+v, want %+v", name, g.ErrorAnswers, w.ErrorAnswers)
		}
		// Exact: the same values recorded into histograms of the same bounds.
		if !decoded(t, g.HDR).Equals(decoded(t, w.HDR)) {
			t.Errorf("ops.%s.hdr differs from the whole run's", name)
		}
		if g.LatencyMs != w.LatencyMs {
			t.Errorf("ops.%s.latency_ms %+v, want %+v", name, g.LatencyMs, w.LatencyMs)
		}
		if (w.ServiceMs == nil) != (g.ServiceMs == nil) || w.ServiceMs != nil && *g.ServiceMs != *w.ServiceMs {
			t.Errorf("ops.%s.service_ms %v, want %v", name, g.ServiceMs, w.ServiceMs)
		}
		if w.ServiceHDR != "" && !decoded(t, g.ServiceHDR).Equals(decoded(t, w.ServiceHDR)) {
			t.Errorf("ops.%s.service_hdr differs", name)
		}
	}
	if !reflect.DeepEqual(m.Sessions, whole.Sessions) || m.Requests != whole.Requests {
		t.Errorf("sessions %+v requests %+v, want %+v %+v", m.Sessions, m.Requests, whole.Sessions, whole.Requests)
	}
	w, g := whole.Timeline, m.Timeline
	for name, pair := range map[string][2][]int64{
		"refresh_attempts": {g.RefreshAttempts, w.RefreshAttempts}, "refresh_ok": {g.RefreshOK, w.RefreshOK},
		"refresh_errors": {g.RefreshErrors, w.RefreshErrors}, "api_calls": {g.APICalls, w.APICalls},
		"api_401": {g.API401, w.API401}, "forced_signouts": {g.ForcedSignouts, w.ForcedSignouts},
		"clients_signed_in": {g.SignedIn, w.SignedIn}, "clients_valid_token": {g.ValidToken, w.ValidToken},
		"refresh_inflight": {g.RefreshInflight, w.RefreshInflight},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("timeline.%s = %v, want %v", name, pair[0], pair[1])
		}
	}
	// Herd and event figures are recomputed from the merged timeline.
	if m.Herd != whole.Herd {
		t.Errorf("herd %+v, want %+v", m.Herd, whole.Herd)
	}
	if !reflect.DeepEqual(m.Events, whole.Events) {
		t.Errorf("events %+v, want %+v", m.Events, whole.Events)
	}
	if !reflect.DeepEqual(m.Thresholds, whole.Thresholds) || m.Verdict != whole.Verdict {
		t.Errorf("thresholds %+v %s, want %+v %s", m.Thresholds, m.Verdict, whole.Thresholds, whole.Verdict)
	}
	// Bounds, documented: the largest of the shards'.
	if e := m.Engine; e.Clients != f.clients || e.LagMs != (LagSummary{P50: 0.4, P99: 4, Max: 8}) || e.MaxRSSBytes != 4<<20 {
		t.Errorf("engine %+v", e)
	}
	// Connection counts add up; the descriptor limit is the tightest shard's.
	n := int64(len(shards))
	if c, want := m.Engine.Connections, (Connections{Dials: 100 * n, TLSHandshakes: 90 * n, PeakOpen: 50 * n,
		PortsExhausted: n * (n - 1) / 2, FDsExhausted: n, SourceAddrs: int(n)}); c != want || m.Engine.FDLimit != uint64(20000-n+1) {
		t.Errorf("engine.connections %+v, fd_limit %d; want %+v, %d", c, m.Engine.FDLimit, want, 20000-n+1)
	}
	ls := m.Timeline.RefreshLatencyMs
	if ls.WindowMs != 1000 || !reflect.DeepEqual(ls.P99, []float64{40, 41, 42, 43}) || !reflect.DeepEqual(ls.Max, []float64{80, 82, 84, 86}) {
		t.Errorf("refresh_latency_ms %+v", ls)
	}
}

func TestMergeAlignsTimelinesOnAbsoluteTime(t *testing.T) {
	f := newFleetSim()
	shards := f.shards(t, 2)
	// Shard 1 started 300 ms after shard 0: its buckets move 3 to the right.
	late := shards[1]
	late.StartedAt = late.StartedAt.Add(300 * time.Millisecond)
	late.EndedAt = late.EndedAt.Add(300 * time.Millisecond)
	m, err := Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Timeline.RefreshAttempts); n != f.buckets+3 {
		t.Fatalf("%d buckets, want %d", n, f.buckets+3)
	}
	for b := range m.Timeline.RefreshAttempts {
		var want int64
		if b < f.buckets {
			want += shards[0].Timeline.RefreshAttempts[b]
		}
		if b >= 3 {
			want += late.Timeline.RefreshAttempts[b-3]
		}
		if got := m.Timeline.RefreshAttempts[b]; got != want {
			t.Errorf("bucket %d: %d attempts, want %d", b, got, want)
		}
	}
	if len(m.Timeline.SignedIn) != f.buckets+3 || len(m.Timeline.ValidToken) != f.buckets+3 {
		t.Errorf("series of unequal lengths")
	}
	if !m.StartedAt.Equal(shards[0].StartedAt) || !m.EndedAt.Equal(late.EndedAt) {
		t.Errorf("times %s..%s", m.StartedAt, m.EndedAt)
	}
}

func TestMergeRefusesResultsOfOtherRuns(t *testing.T) {
	f := newFleetSim()
	base := f.shards(t, 4)
	for _, tc := range []struct {
		name   string
		change func(rs []*Result) []*Result
		want   string
		inputs []int
	}{
		{"seed", func(rs []*Result) []*Result { rs[1].Profile.Seed = 8; return rs }, "different seeds", []int{0, 1}},
		{"profile", func(rs []*Result) []*Result {
			rs[2].Profile.Duration = profiles.Duration(time.Minute)
			return rs
		}, "profile.duration differs", []int{0, 2}},
		{"profile name", func(rs []*Result) []*Result { rs[1].Profile.Name = "other"; return rs }, "different profiles", []int{0, 1}},
		{"shard count", func(rs []*Result) []*Result { rs[3].Shard.Count = 5; return rs }, "different shard counts", []int{0, 3}},
		{"twice", func(rs []*Result) []*Result { return append(rs, rs[1]) }, "shard 1/4 given twice", []int{1, 4}},
		{"out of range", func(rs []*Result) []*Result { rs[3].Shard.Index = 4; return rs }, "out of range", []int{3}},
		{"negative", func(rs []*Result) []*Result { rs[3].Shard.Index = -1; return rs }, "out of range", []int{3}},
		{"missing", func(rs []*Result) []*Result { return rs[:3] }, "missing shard 3/4", nil},
		{"run", func(rs []*Result) []*Result { rs[1].RunID = "20261129-000000-000000"; return rs }, "different runs", []int{0, 1}},
		{"target", func(rs []*Result) []*Result { rs[1].Target.URL = "http://127.0.0.1:1"; return rs }, "different targets", []int{0, 1}},
		{"schema", func(rs []*Result) []*Result { rs[2].Schema = "stampede.result/v0"; return rs }, "schema", []int{2}},
		{"version", func(rs []*Result) []*Result { rs[1].ToolVersion = "v1.0.0"; return rs }, "different stampede versions", []int{0, 1}},
		{"corrupt hdr", func(rs []*Result) []*Result { rs[2].Ops[OpRefresh].HDR = "garbage"; return rs }, "ops.refresh.hdr", []int{2}},
		{"no hdr", func(rs []*Result) []*Result { rs[1].Ops[OpAPI].HDR = ""; return rs }, "cannot merge exactly", []int{1}},
		{"buckets", func(rs []*Result) []*Result { rs[1].Timeline.BucketMs = 250; return rs }, "different timeline buckets", []int{0, 1}},
		{"events", func(rs []*Result) []*Result { rs[1].Events = rs[1].Events[:1]; return rs }, "different fleet events", []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.change(clone(t, base))...)
			var me *MergeError
			if !errors.As(err, &me) {
				t.Fatalf("err %v, want a *MergeError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q, want %q", err, tc.want)
			}
			if !reflect.DeepEqual(me.Inputs, tc.inputs) {
				t.Errorf("inputs %v, want %v", me.Inputs, tc.inputs)
			}
		})
	}
	if _, err := Merge(); err == nil {
		t.Error("merged nothing")
	}
}

func TestMergeErrorNamesFiles(t *testing.T) {
	f := newFleetSim()
	rs := f.shards(t, 2)
	_, err := Merge(rs[0], rs[1], rs[1])
	var me *MergeError
	if !errors.As(err, &me) {
		t.Fatalf("err %v", err)
	}
	if got := err.Error(); got != "result 2 and result 3: shard 1/2 given twice" {
		t.Errorf("positional: %q", got)
	}
	named := me.Named([]string{"a/result.json", "b/result.json", "c/result.json"})
	if got := named.Error(); got != "b/result.json and c/result.json: shard 1/2 given twice" {
		t.Errorf("named: %q", got)
	}
	if !errors.As(named, &me) {
		t.Error("the named error does not unwrap to the *MergeError")
	}
}

func TestMergeRefusesDroppedValues(t *testing.T) {
	f := newFleetSim()
	rs := f.shards(t, 2)
	// A histogram of wider bounds holding a value stampede's cannot: the
	// merge would drop it.
	wide := hdrhistogram.New(1, 10*histMax, histSigFigs)
	if err := wide.RecordValue(2 * histMax); err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeHistogram(wide)
	if err != nil {
		t.Fatal(err)
	}
	rs[1].Ops[OpRefresh].HDR = enc
	_, err = Merge(rs...)
	if err == nil || !strings.Contains(err.Error(), "outside the histogram bounds") || !strings.Contains(err.Error(), "result 2") {
		t.Errorf("err %v, want a refusal naming result 2", err)
	}
}

func TestMergeKeepsPartialAndAbortedThresholds(t *testing.T) {
	f := newFleetSim()
	rs := f.shards(t, 2)
	rs[1].Partial = true
	rs[1].Thresholds[1] = ThresholdResult{Expr: "requests.lost == 0", Value: 3, AbortOnFail: true, Aborted: true}
	rs[1].Verdict = VerdictFail
	m, err := Merge(rs...)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Partial || m.Verdict != VerdictFail || !m.Thresholds[1].Aborted || m.Thresholds[1].OK {
		t.Errorf("partial %v verdict %s thresholds %+v", m.Partial, m.Verdict, m.Thresholds)
	}
}

func TestMergeOfOneWholeRunIsTheRun(t *testing.T) {
	whole := newFleetSim().result(t, 0, 1)
	m, err := Merge(whole)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ops[OpRefresh].LatencyMs != whole.Ops[OpRefresh].LatencyMs || m.Herd != whole.Herd || m.Verdict != whole.Verdict {
		t.Errorf("merge of one run changed it")
	}
}

// TestEveryFormatRendersFromAMerge: a merge is an ordinary result.
func TestEveryFormatRendersFromAMerge(t *testing.T) {
	m, err := Merge(newFleetSim().shards(t, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := Render(&b, m, format); err != nil || b.Len() == 0 {
			t.Errorf("%s: %v, %d bytes", format, err, b.Len())
		}
	}
}
