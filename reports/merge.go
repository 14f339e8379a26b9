package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MergeError is Merge's refusal: the results are not the shards of one
// run, or one of them cannot be read. Inputs are the positions, in Merge's
// arguments, of the results at fault (none when the fault is the set as a
// whole, such as a missing shard); Named words the error with file names.
type MergeError struct {
	Inputs []int
	Reason string
	// Err is the underlying error, if any (a corrupt histogram).
	Err error
}

// Error words the refusal naming the inputs by position ("result 2").
func (e *MergeError) Error() string { return e.message(nil) }

// Unwrap returns the underlying error, if any.
func (e *MergeError) Unwrap() error { return e.Err }

// Named words the refusal naming each input by names[i] (its file) instead
// of its position; the returned error still unwraps to e.
func (e *MergeError) Named(names []string) error {
	return &namedMergeError{e: e, names: names}
}

func (e *MergeError) message(names []string) string {
	if len(e.Inputs) == 0 {
		return e.Reason
	}
	parts := make([]string, len(e.Inputs))
	for i, in := range e.Inputs {
		if in >= 0 && in < len(names) {
			parts[i] = names[in]
		} else {
			parts[i] = fmt.Sprintf("result %d", in+1)
		}
	}
	return strings.Join(parts, " and ") + ": " + e.Reason
}

type namedMergeError struct {
	e     *MergeError
	names []string
}

func (n *namedMergeError) Error() string { return n.e.message(n.names) }
func (n *namedMergeError) Unwrap() error { return n.e }

func refuse(inputs []int, format string, args ...any) *MergeError {
	return &MergeError{Inputs: inputs, Reason: fmt.Sprintf(format, args...)}
}

// Merge combines the results of the shards of one sharded run (stampede run
// --shard i/n, every shard given exactly once) into the result of the whole
// fleet, as if one process had run it. It refuses, with a *MergeError,
// results of another schema, tool version, run, target, profile, seed or
// shard count, a shard given twice or out of range, and a missing shard.
//
// What is exact: the latency histograms (ops.*.hdr and service_hdr are
// decoded, merged and summarised again; values a histogram could not hold
// are an error, not dropped), every counter (op counts and error classes,
// sessions, requests, herd retries and duplicate refreshes, event clients
// and sessions), and the timeline's counters, aligned on absolute time:
// each shard's buckets are placed by its started_at from the earliest
// start (shards given the same --start-at share the origin exactly). The
// herd figures and each event's burst and recovery are then recomputed
// from the merged timeline (Analyze), and the profile's thresholds are
// evaluated on the merge (Evaluate); a threshold that stopped a shard early
// (abort_on_fail) fails the merge too.
//
// What is a bound, not exact, because a shard keeps no more than a
// summary of it:
//   - timeline gauges (clients signed in, signed out, background, offline,
//     holding a valid token) add per bucket: exact when the shards sampled
//     at the same instants, as they do from one --start-at;
//     refresh_inflight, each shard's peak within the bucket, adds to an
//     upper bound of the fleet's peak (the shards' peaks may not coincide);
//   - timeline.refresh_latency_ms keeps, per window, the largest of the
//     shards' p50, p99 and max: max is exact, p50 and p99 are upper bounds
//     (a quantile of the union never exceeds the largest of the parts');
//   - engine.lag_ms keeps the largest of the shards' p50, p99 and max (the
//     engine keeps no lag histogram in result.json, so lag percentiles
//     cannot be merged exactly); goroutines and max_rss_bytes are the
//     largest any shard process saw: engine describes the busiest
//     generator process, while engine.clients adds up to the fleet.
//
// The merge covers the whole fleet, so its shard is {"index": 0, "count":
// 1}, as for a single process; started_at is the earliest start, ended_at
// the latest end, and partial is true when any shard was.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, refuse(nil, "no results to merge")
	}
	for i, r := range results {
		if r == nil {
			return nil, refuse([]int{i}, "no result")
		}
	}
	if err := checkShards(results); err != nil {
		return nil, err
	}
	if err := checkSums(results); err != nil {
		return nil, refuse(nil, "%v", err)
	}
	first := results[0]
	out := &Result{
		Schema:      first.Schema,
		RunID:       first.RunID,
		ToolVersion: first.ToolVersion,
		Profile:     first.Profile,
		Target:      mergeTargets(results),
		StartedAt:   first.StartedAt,
		EndedAt:     first.EndedAt,
		Shard:       Shard{Index: 0, Count: 1},
		Ops:         map[string]*Op{},
		Sessions:    Sessions{ByStatus: map[string]int64{}},
	}
	for _, r := range results {
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		out.Partial = out.Partial || r.Partial
		addSessions(&out.Sessions, r.Sessions)
		out.Requests.Add(r.Requests)
		mergeEngine(&out.Engine, r.Engine)
		out.Herd.Retries += r.Herd.Retries
		out.Herd.DuplicateRefreshes += r.Herd.DuplicateRefreshes
	}
	for _, r := range results { // samples count from each shard's start: shift them to the merge's
		out.Samples.Merge(r.Samples.Shifted(r.StartedAt.Sub(out.StartedAt).Seconds()))
	}
	if err := mergeOps(out, results); err != nil {
		return nil, err
	}
	for i, r := range results { // each shard's TLS timeline placed by its start, as the timeline's
		var err error
		shift := 0
		if t := r.Engine.TLS; t != nil && t.Timeline.BucketMs > 0 {
			shift = int(r.StartedAt.Sub(out.StartedAt) / (time.Duration(t.Timeline.BucketMs) * time.Millisecond))
		}
		if out.Engine.TLS, err = mergeTLS(out.Engine.TLS, r.Engine.TLS, shift); err != nil {
			return nil, fmt.Errorf("result %d: %w", i+1, err)
		}
	}
	mergeWindows(out, results)
	tl, err := mergeTimelines(out.StartedAt, results)
	if err != nil {
		return nil, err
	}
	out.Timeline = tl
	if out.Events, err = mergeEvents(out.StartedAt, results); err != nil {
		return nil, err
	}
	Analyze(out)
	if err := Evaluate(out, out.Profile.Thresholds); err != nil {
		return nil, refuse(nil, "the profile's thresholds: %v", err)
	}
	for _, r := range results {
		for i, t := range r.Thresholds {
			if t.Aborted && i < len(out.Thresholds) && !out.Thresholds[i].Aborted {
				MarkAborted(out, i, t)
			}
		}
	}
	return out, nil
}

// checkShards refuses results that are not the n shards of one run, each
// given once.
func checkShards(results []*Result) error {
	first := results[0]
	p0, err := json.Marshal(first.Profile)
	if err != nil {
		return &MergeError{Inputs: []int{0}, Reason: "encode profile", Err: err}
	}
	n := first.Shard.Count
	seen := map[int]int{} // shard index → input
	for i, r := range results {
		pair := []int{0, i}
		switch {
		case r.Schema != Schema:
			return refuse([]int{i}, "schema %q, want %q", r.Schema, Schema)
		case r.ToolVersion != first.ToolVersion:
			return refuse(pair, "made by different stampede versions (%s, %s)", first.ToolVersion, r.ToolVersion)
		case r.Profile.Name != first.Profile.Name:
			return refuse(pair, "different profiles (%q, %q)", first.Profile.Name, r.Profile.Name)
		case r.Profile.Seed != first.Profile.Seed:
			return refuse(pair, "different seeds (%d, %d): not shards of one run", first.Profile.Seed, r.Profile.Seed)
		case r.Shard.Count != n:
			return refuse(pair, "different shard counts (%d, %d)", n, r.Shard.Count)
		case r.RunID != first.RunID:
			return refuse(pair, "different runs (%s, %s): give the shards the same --start-at (or --run-id)", first.RunID, r.RunID)
		case !sameTarget(r.Target, first.Target):
			return refuse(pair, "different targets (%s %s, %s %s): the shards of a run share one target",
				first.Target.Kind, first.Target.URL, r.Target.Kind, r.Target.URL)
		}
		p, err := json.Marshal(r.Profile)
		if err != nil {
			return &MergeError{Inputs: []int{i}, Reason: "encode profile", Err: err}
		}
		if !bytes.Equal(p, p0) {
			return refuse(pair, "different profiles: %s differs", profileDiff(p0, p))
		}
		if n < 1 || n > MaxShards {
			return refuse([]int{i}, "shard count %d: want from 1 to %d", r.Shard.Count, MaxShards)
		}
		idx := r.Shard.Index
		if idx < 0 || idx >= n {
			return refuse([]int{i}, "shard index %d out of range for %d shards", idx, n)
		}
		if j, dup := seen[idx]; dup {
			return refuse([]int{j, i}, "shard %d/%d given twice", idx, n)
		}
		seen[idx] = i
	}
	if len(seen) < n {
		var missing []string
		for s := range n {
			if _, ok := seen[s]; !ok && len(missing) < maxListed {
				missing = append(missing, fmt.Sprintf("%d/%d", s, n))
			}
		}
		more := ""
		if k := n - len(seen) - len(missing); k > 0 {
			more = fmt.Sprintf(" and %d more", k)
		}
		return refuse(nil, "run %s has %d shards; missing shard %s%s: merge every shard's result", first.RunID, n, strings.Join(missing, ", "), more)
	}
	return nil
}

// profileDiff names the first top-level field of two profiles' JSON that differs.
func profileDiff(a, b []byte) string {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return "the profile"
	}
	keys := slices.Sorted(maps.Keys(ma))
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if !bytes.Equal(ma[k], mb[k]) {
			return "profile." + k
		}
	}
	return "the profile"
}

func addSessions(dst *Sessions, s Sessions) {
	for k, v := range s.ByStatus {
		dst.ByStatus[k] += v
	}
	dst.ForcedSignouts += s.ForcedSignouts
	dst.ReSignIns += s.ReSignIns
	for k, v := range s.ForcedSignoutsByCause {
		if dst.ForcedSignoutsByCause == nil {
			dst.ForcedSignoutsByCause = map[string]int64{}
		}
		dst.ForcedSignoutsByCause[k] += v
	}
	for k, v := range s.ServerByStatus {
		if dst.ServerByStatus == nil {
			dst.ServerByStatus = map[string]int64{}
		}
		dst.ServerByStatus[k] += v
	}
	dst.SignInsCancelled += s.SignInsCancelled
	dst.SignInFlowFailures += s.SignInFlowFailures
}

// mergeEngine keeps the largest lag figures, goroutines, RSS and source
// address count of any shard and the smallest descriptor limit (see Merge),
// and adds up the clients, the queued requests and the connection counts
// (peak_open so becomes an upper bound: the shards' peaks need not coincide).
func mergeEngine(dst *Engine, e Engine) {
	dst.LagMs.P50 = max(dst.LagMs.P50, e.LagMs.P50)
	dst.LagMs.P99 = max(dst.LagMs.P99, e.LagMs.P99)
	dst.LagMs.Max = max(dst.LagMs.Max, e.LagMs.Max)
	dst.Clients += e.Clients
	dst.Goroutines = max(dst.Goroutines, e.Goroutines)
	dst.MaxRSSBytes = max(dst.MaxRSSBytes, e.MaxRSSBytes)
	dst.QueuedRequests += e.QueuedRequests
	if e.FDLimit > 0 && (dst.FDLimit == 0 || e.FDLimit < dst.FDLimit) {
		dst.FDLimit = e.FDLimit
	}
	c, d := e.Connections, &dst.Connections
	d.Dials += c.Dials
	d.TLSHandshakes += c.TLSHandshakes
	d.PeakOpen += c.PeakOpen
	d.PortsExhausted += c.PortsExhausted
	d.FDsExhausted += c.FDsExhausted
	d.SourceAddrs = max(d.SourceAddrs, c.SourceAddrs)
	d.HTTP1Conns += c.HTTP1Conns
	d.HTTP2Conns += c.HTTP2Conns
	d.HTTP2Requests += c.HTTP2Requests
	d.MaxStreams = max(d.MaxStreams, c.MaxStreams)
	d.Protocol = ConnProtocol(d.HTTP1Conns, d.HTTP2Conns)
}

// mergeOps adds up each operation's counters and merges its histograms.
func mergeOps(out *Result, results []*Result) error {
	names := map[string]bool{}
	for _, r := range results {
		for name := range r.Ops {
			names[name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		m := &Op{Errors: map[string]int64{}}
		latency, service := NewHistogram(), NewHistogram()
		var haveHDR, haveService bool
		for i, r := range results {
			o := r.Ops[name]
			if o == nil {
				continue
			}
			m.Count += o.Count
			m.OK += o.OK
			m.OutOfRange += o.OutOfRange
			for c, v := range o.Errors {
				m.Errors[c] += v
			}
			m.ErrorAnswers = AddErrorAnswers(m.ErrorAnswers, o.ErrorAnswers)
			ok, err := mergeHDR(latency, o.HDR, o.LatencyMs)
			if err != nil {
				return mergeHDRError(i, name, "hdr", err)
			}
			haveHDR = haveHDR || ok
			var sum Summary
			if o.ServiceMs != nil {
				sum = *o.ServiceMs
			}
			ok, err = mergeHDR(service, o.ServiceHDR, sum)
			if err != nil {
				return mergeHDRError(i, name, "service_hdr", err)
			}
			haveService = haveService || ok
		}
		if haveHDR {
			enc, err := EncodeHistogram(latency)
			if err != nil {
				return err
			}
			m.HDR, m.LatencyMs = enc, Summarize(latency)
		}
		if haveService {
			enc, err := EncodeHistogram(service)
			if err != nil {
				return err
			}
			s := Summarize(service)
			m.ServiceHDR, m.ServiceMs = enc, &s
		}
		out.Ops[name] = m
	}
	return nil
}

func mergeHDRError(input int, op, field string, err error) error {
	return &MergeError{Inputs: []int{input}, Reason: fmt.Sprintf("ops.%s.%s: %v", op, field, err), Err: err}
}

// mergeHDR merges the encoded histogram enc into dst, reporting whether
// there was one. A latency summary without its histogram cannot be merged
// exactly, and a value dst cannot hold is never dropped silently: both
// are errors.
func mergeHDR(dst *hdrhistogram.Histogram, enc string, sum Summary) (bool, error) {
	if enc == "" {
		if sum != (Summary{}) {
			return false, fmt.Errorf("latencies without the histogram: cannot merge exactly")
		}
		return false, nil
	}
	h, err := DecodeHistogram(enc)
	if err != nil {
		return false, err
	}
	if dropped := dst.Merge(h); dropped != 0 {
		return false, fmt.Errorf("%d values outside the histogram bounds (1 µs .. 1 h)", dropped)
	}
	return true, nil
}

// mergeTimelines adds the shards' timelines up bucket by bucket, each
// placed by its start's offset from origin (see Merge for the gauges).
func mergeTimelines(origin time.Time, results []*Result) (Timeline, error) {
	first := results[0].Timeline
	tl := Timeline{BucketMs: first.BucketMs}
	tl.RefreshLatencyMs.WindowMs = first.RefreshLatencyMs.WindowMs
	for i, r := range results {
		t := r.Timeline
		if t.BucketMs != tl.BucketMs {
			return Timeline{}, refuse([]int{0, i}, "different timeline buckets (%d ms, %d ms)", tl.BucketMs, t.BucketMs)
		}
		if len(t.RefreshLatencyMs.P99) > 0 || len(t.RefreshLatencyMs.P50) > 0 || len(t.RefreshLatencyMs.Max) > 0 {
			if tl.RefreshLatencyMs.WindowMs == 0 {
				tl.RefreshLatencyMs.WindowMs = t.RefreshLatencyMs.WindowMs
			}
			if t.RefreshLatencyMs.WindowMs != tl.RefreshLatencyMs.WindowMs {
				return Timeline{}, refuse([]int{0, i}, "different refresh latency windows (%d ms, %d ms)",
					tl.RefreshLatencyMs.WindowMs, t.RefreshLatencyMs.WindowMs)
			}
		}
	}
	if tl.BucketMs <= 0 {
		return tl, nil
	}
	counters := func(t *Timeline) []*[]int64 {
		return []*[]int64{&t.RefreshAttempts, &t.RefreshOK, &t.RefreshErrors, &t.RefreshInflight, &t.APICalls,
			&t.API401, &t.ForcedSignouts, &t.SignedIn, &t.SignedOut, &t.Background, &t.Offline, &t.ValidToken}
	}
	dst := counters(&tl)
	for _, r := range results {
		off := offset(origin, r.StartedAt, tl.BucketMs)
		for k, src := range counters(&r.Timeline) {
			*dst[k] = addAt(*dst[k], *src, off)
		}
	}
	// Every series as long as the longest, as a single run writes them.
	n := 0
	for _, s := range dst {
		n = max(n, len(*s))
	}
	for _, s := range dst {
		*s = append(*s, make([]int64, n-len(*s))...)
	}

	if w := tl.RefreshLatencyMs.WindowMs; w > 0 {
		ls := &tl.RefreshLatencyMs
		for _, r := range results {
			off := offset(origin, r.StartedAt, w)
			src := r.Timeline.RefreshLatencyMs
			ls.P50 = maxAt(ls.P50, src.P50, off)
			ls.P99 = maxAt(ls.P99, src.P99, off)
			ls.Max = maxAt(ls.Max, src.Max, off)
		}
		n := max(len(ls.P50), len(ls.P99), len(ls.Max))
		ls.P50 = append(ls.P50, make([]float64, n-len(ls.P50))...)
		ls.P99 = append(ls.P99, make([]float64, n-len(ls.P99))...)
		ls.Max = append(ls.Max, make([]float64, n-len(ls.Max))...)
	}
	return tl, nil
}

// offset is how many whole units of unitMs start lies after origin, rounded
// to the nearest.
func offset(origin, start time.Time, unitMs int) int {
	unit := time.Duration(unitMs) * time.Millisecond
	return int((start.Sub(origin) + unit/2) / unit)
}

// addAt adds src into dst from position off, growing dst as needed.
func addAt(dst, src []int64, off int) []int64 {
	if len(src) == 0 {
		return dst
	}
	if need := off + len(src); len(dst) < need {
		dst = append(dst, make([]int64, need-len(dst))...)
	}
	for i, v := range src {
		dst[off+i] += v
	}
	return dst
}

// maxAt keeps in dst the larger of dst's and src's values from position off.
func maxAt(dst, src []float64, off int) []float64 {
	if len(src) == 0 {
		return dst
	}
	if need := off + len(src); len(dst) < need {
		dst = append(dst, make([]float64, need-len(dst))...)
	}
	for i, v := range src {
		dst[off+i] = max(dst[off+i], v)
	}
	return dst
}

// mergeEvents combines the shards' fleet events by index: the clients and
// sessions each acted on add up, the first error is kept. Event times come
// from shard 0, the shard that applies backend events, moved to the merged
// timeline's origin; Analyze recomputes burst and recovery afterwards.
func mergeEvents(origin time.Time, results []*Result) ([]Event, error) {
	var lead *Result
	leadIn := 0
	for i, r := range results {
		if r.Shard.Index == 0 {
			lead, leadIn = r, i
		}
	}
	shift := lead.StartedAt.Sub(origin).Seconds()
	out := make([]Event, len(lead.Events))
	for k, e := range lead.Events {
		e.Clients, e.Sessions, e.Error = 0, 0, ""
		e.StartS += shift
		e.EndS += shift
		out[k] = e
	}
	for i, r := range results {
		if len(r.Events) != len(out) {
			return nil, refuse([]int{leadIn, i}, "different fleet events (%d, %d)", len(out), len(r.Events))
		}
		for k, e := range r.Events {
			o := &out[k]
			if e.Index != o.Index || e.Type != o.Type || e.At != o.At {
				return nil, refuse([]int{leadIn, i}, "different fleet events at #%d (%s at %s, %s at %s)", k, o.Type, o.At, e.Type, e.At)
			}
			o.Clients += e.Clients
			o.Sessions += e.Sessions
			if o.Error == "" {
				o.Error = e.Error
			}
		}
	}
	return out, nil
}
