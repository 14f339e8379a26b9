package proxy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// Result files the proxy writes in its results directory.
const (
	ResultName   = "result.json"
	ReportName   = "report.html"
	JUnitName    = "junit.xml"
	MarkdownName = "report.md"
)

// clientOnly are result.json's sections that only a client-side run
// knows; a proxy result leaves them out rather than writing zeros.
var clientOnly = []string{"requests", "sessions", "engine", "samples", "invariants"}

// Result is what the proxy saw from its start until now: result.json's
// model with Mode "proxy", herd figures, events and thresholds evaluated
// (thresholds only: the run's default invariants are about the requests
// a client-side run issued, which the proxy does not know).
func (p *Proxy) Result(runID, version string, partial bool) (*reports.Result, error) {
	end := p.cfg.Now()
	f := p.fleet
	f.mu.Lock()
	f.bucket(end)
	prof := p.cfg.Profile.Redacted()
	prof.Duration = profiles.Duration(end.Sub(p.start))
	prof.Ramp = 0
	if prof.TimeScale <= 0 {
		prof.TimeScale = 1
	}
	res := &reports.Result{
		Schema: reports.Schema, RunID: runID, ToolVersion: version, Profile: prof,
		Target:    reports.Target{Kind: p.cfg.Profile.TargetKind(), URL: p.cfg.Upstream.Redacted()},
		StartedAt: p.start.UTC(), EndedAt: end.UTC(), Partial: partial, Shard: reports.Shard{Count: 1},
		Ops: map[string]*reports.Op{}, Mode: reports.ModeProxy,
	}
	for k, op := range f.ops {
		o := *op
		o.Errors = map[string]int64{}
		for c, n := range op.Errors {
			o.Errors[c] = n
		}
		o.LatencyMs = reports.Summarize(f.hist[k])
		enc, err := reports.EncodeHistogram(f.hist[k])
		if err != nil {
			f.mu.Unlock()
			return nil, fmt.Errorf("proxy: %w", err)
		}
		o.HDR = enc
		res.Ops[k.String()] = &o
	}
	tl := f.tl
	tl.RefreshAttempts = append([]int64(nil), tl.RefreshAttempts...)
	tl.RefreshOK = append([]int64(nil), tl.RefreshOK...)
	tl.RefreshErrors = append([]int64(nil), tl.RefreshErrors...)
	tl.RefreshInflight = append([]int64(nil), tl.RefreshInflight...)
	tl.APICalls = append([]int64(nil), tl.APICalls...)
	tl.API401 = append([]int64(nil), tl.API401...)
	res.Timeline = tl
	fig := f.fig
	fig.DuplicateRefreshes = fig.DuplicateInflight + fig.DuplicateSameGeneration
	fig.Faults = map[string]int64{}
	for k, v := range f.fig.Faults {
		fig.Faults[k] = v
	}
	var top []reports.ProxySession
	for _, s := range f.sessions {
		if s.DuplicateRefreshes+s.RefreshTokenReuse+s.StaleRetries+s.RetryLoops > 0 {
			top = append(top, s.ProxySession)
		}
	}
	f.mu.Unlock()
	sort.Slice(top, func(i, j int) bool {
		a, b := top[i], top[j]
		sa := a.DuplicateRefreshes + a.RefreshTokenReuse + a.StaleRetries + a.RetryLoops
		sb := b.DuplicateRefreshes + b.RefreshTokenReuse + b.StaleRetries + b.RetryLoops
		if sa != sb {
			return sa > sb
		}
		return a.Session < b.Session
	})
	fig.TopSessions = top[:min(len(top), 10)]
	res.Proxy = &fig
	var err error
	if fig.OverheadMs, fig.OverheadHDR, err = p.overhead.summary(); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	res.Herd.DuplicateRefreshes = fig.DuplicateRefreshes
	faults := p.faults.snapshot()
	for i, flt := range faults {
		e := reports.Event{Index: i, Type: flt.Event.Type, At: flt.Event.At.String(), StartS: flt.Start.Seconds(), EndS: flt.Start.Seconds()}
		if flt.Live {
			e.At = "live"
		}
		if flt.End > 0 {
			e.EndS = flt.End.Seconds()
		} else if flt.Event.Type != profiles.EventKeyRotation {
			e.EndS = end.Sub(p.start).Seconds()
		}
		res.Events = append(res.Events, e)
	}
	reports.Analyze(res)
	// Recovery from the server's side: the fleet's traffic back to its
	// pre-fault baseline (the run's valid-token gauge is the clients').
	for i := range res.Events {
		e := &res.Events[i]
		e.RecoveryS, e.RecoveryReason = reports.FaultRecovery(res.Timeline, e.StartS, e.EndS)
		if f := faults[i]; f.Event.Type != profiles.EventKeyRotation && (f.End == 0 || f.End > end.Sub(p.start)) {
			e.RecoveryS, e.RecoveryReason = nil, reports.RecoveryFaultActive
		}
	}
	if err := reports.Evaluate(res, prof.Thresholds); err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	res.Invariants = nil
	res.Verdict = reports.VerdictPass
	for _, t := range res.Thresholds {
		if !t.OK {
			res.Verdict = reports.VerdictFail
		}
	}
	return res, nil
}

// WriteResults writes result.json (the client-only sections left out),
// the HTML report, JUnit XML and Markdown into dir.
func WriteResults(dir string, res *reports.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	for _, k := range clientOnly {
		delete(doc, k)
	}
	b, err = json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if err := reports.WriteAtomic(filepath.Join(dir, ResultName), append(b, '\n')); err != nil {
		return err
	}
	for name, format := range map[string]string{ReportName: "html", JUnitName: "junit", MarkdownName: "markdown"} {
		if err := reports.RenderFile(filepath.Join(dir, name), res, format); err != nil {
			return err
		}
	}
	return nil
}
