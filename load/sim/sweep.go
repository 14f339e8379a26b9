package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// The comparison files a sweep writes into its results directory.
const (
	SweepTextName = "sweep.txt"
	SweepJSONName = "sweep.json"
	SweepHTMLName = "sweep.html"
)

// Axis is one --sweep PATH=v1,v2,...: a profile field and its values.
type Axis struct {
	Path   string
	Values []string
}

// ParseAxes reads --sweep flags. Values are split at commas outside
// brackets and braces, so "events[0]={type: outage, at: 50%}" is one value.
func ParseAxes(flags []string) ([]Axis, error) {
	var axes []Axis
	var errs []error
	for _, f := range flags {
		path, vals, ok := strings.Cut(f, "=")
		path = strings.TrimSpace(path)
		if !ok || path == "" || strings.TrimSpace(vals) == "" {
			errs = append(errs, fmt.Errorf("--sweep %q: want PATH=v1,v2,... such as sdk.retry.jitter=none,full", f))
			continue
		}
		ax := Axis{Path: path}
		depth, start := 0, 0
		for i := 0; i <= len(vals); i++ {
			if i < len(vals) {
				switch vals[i] {
				case '[', '{':
					depth++
				case ']', '}':
					depth--
				}
				if vals[i] != ',' || depth > 0 {
					continue
				}
			}
			if v := strings.TrimSpace(vals[start:i]); v != "" {
				ax.Values = append(ax.Values, v)
			}
			start = i + 1
		}
		axes = append(axes, ax)
	}
	return axes, errors.Join(errs...)
}

// Setting is one field of a sweep point.
type Setting struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Point is one point of a sweep's grid: its settings and its profile.
type Point struct {
	Name     string           `json:"name"`
	Settings []Setting        `json:"settings"`
	Profile  profiles.Profile `json:"-"`
}

// Grid applies every combination of the axes' values to p (the first axis
// varies slowest) and validates each point's profile. Errors name the
// --sweep value at fault.
func Grid(p profiles.Profile, axes []Axis) ([]Point, error) {
	points := []Point{{Profile: p}}
	for _, ax := range axes {
		var next []Point
		for _, pt := range points {
			for _, v := range ax.Values {
				q := pt.Profile
				if err := profiles.Set(&q, ax.Path, v); err != nil {
					return nil, fmt.Errorf("--sweep %s=%s: %w", ax.Path, v, err)
				}
				next = append(next, Point{Settings: append(append([]Setting(nil), pt.Settings...), Setting{ax.Path, v}), Profile: q})
			}
		}
		points = next
	}
	for i := range points {
		pt := &points[i]
		var parts []string
		for _, s := range pt.Settings {
			parts = append(parts, s.Path+"="+s.Value)
		}
		pt.Name = strings.Join(parts, " ")
		if err := pt.Profile.Validate(); err != nil {
			return nil, fmt.Errorf("--sweep point %s: %w", pt.Name, err)
		}
	}
	return points, nil
}

// SweepOptions are a sweep: its points and where their results go.
type SweepOptions struct {
	Points      []Point
	OutDir      string
	ToolVersion string
	Service     map[string]Calibrated
	Measure     bool
	// Parallel bounds the points simulated at once; 0 is GOMAXPROCS.
	Parallel int
	// Partitions is every point's partitions; 0 is each point's own
	// AutoPartitions. A point's partitions run GOMAXPROCS / (points at
	// once) at a time, at least one, so that the sweep does not
	// oversubscribe the CPUs.
	Partitions int
}

// PointResult is one point's result and where it was written.
type PointResult struct {
	Point
	Dir    string          `json:"dir"`
	Result *reports.Result `json:"-"`
}

// SweepResult is every point of a sweep, in grid order.
type SweepResult struct {
	Points []PointResult
}

// Failed counts the points whose verdict is fail.
func (s *SweepResult) Failed() int {
	n := 0
	for _, p := range s.Points {
		if p.Result.Verdict == reports.VerdictFail {
			n++
		}
	}
	return n
}

// RunSweep simulates every point, Parallel at a time, each into its own
// directory of OutDir (01-…, 02-…), then writes the comparison:
// sweep.txt, sweep.json and sweep.html.
func RunSweep(ctx context.Context, o SweepOptions) (*SweepResult, error) {
	par := o.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	workers := max(1, runtime.GOMAXPROCS(0)/max(1, min(par, len(o.Points))))
	sw := &SweepResult{Points: make([]PointResult, len(o.Points))}
	errs := make([]error, len(o.Points))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(par, len(o.Points)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pt := o.Points[i]
				dir := filepath.Join(o.OutDir, fmt.Sprintf("%02d-%s", i+1, dirName(pt.Name)))
				res, err := Execute(ctx, Options{Profile: pt.Profile, RunID: fmt.Sprintf("%s-%02d", ID(pt.Profile), i+1), OutDir: dir,
					ToolVersion: o.ToolVersion, Service: o.Service, Measure: o.Measure,
					Partitions: o.Partitions, Workers: workers})
				if err != nil {
					errs[i] = fmt.Errorf("sweep point %s: %w", pt.Name, err)
					continue
				}
				sw.Points[i] = PointResult{Point: pt, Dir: dir, Result: res}
			}
		}()
	}
	for i := range o.Points {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, *SweepResult) error
	}{{SweepTextName, WriteSweepText}, {SweepJSONName, WriteSweepJSON}, {SweepHTMLName, WriteSweepHTML}} {
		var b strings.Builder
		if err := f.write(&b, sw); err != nil {
			return nil, err
		}
		if err := reports.WriteAtomic(filepath.Join(o.OutDir, f.name), []byte(b.String())); err != nil {
			return nil, err
		}
	}
	return sw, nil
}

// dirName makes a point's name a directory name.
func dirName(s string) string {
	r := strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "", "[", "", "]", "", ":", "", "\\", "_", "*", "")
	s = r.Replace(s)
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// Row is one point's figures in the comparison.
type Row struct {
	Point    string              `json:"point"`
	Settings []Setting           `json:"settings"`
	Dir      string              `json:"dir"`
	Verdict  string              `json:"verdict"`
	Refresh  int64               `json:"refreshes"`
	OKShare  float64             `json:"refresh_ok_share"`
	P99Ms    float64             `json:"refresh_p99_ms"`
	Peak     float64             `json:"herd_peak_rps"`
	PeakMean float64             `json:"herd_peak_to_mean"`
	Inflight int64               `json:"herd_max_inflight"`
	Retries  int64               `json:"herd_retries"`
	Shed     int64               `json:"refresh_shed"`
	Forced   int64               `json:"forced_signouts"`
	UserErrs int64               `json:"user_visible_errors"`
	Failed   []string            `json:"failed,omitempty"`
	Backend  reports.SimEndpoint `json:"refresh_endpoint"`
}

// Rows are the comparison's rows, in grid order.
func (s *SweepResult) Rows() []Row {
	rows := make([]Row, len(s.Points))
	for i, p := range s.Points {
		r := p.Result
		ref := r.Ops[reports.OpRefresh]
		row := Row{Point: p.Name, Settings: p.Settings, Dir: p.Dir, Verdict: r.Verdict,
			Peak: r.Herd.PeakRPS, PeakMean: r.Herd.PeakToMean, Inflight: r.Herd.MaxInflight, Retries: r.Herd.Retries,
			Forced: r.Sessions.ForcedSignouts, UserErrs: r.Requests.UserVisibleErrors}
		if ref != nil {
			row.Refresh, row.P99Ms = ref.Count, ref.LatencyMs.P99
			if ref.Count > 0 {
				row.OKShare = float64(ref.OK) / float64(ref.Count)
			}
		}
		if r.Engine.Sim != nil {
			row.Backend = r.Engine.Sim.Backend[reports.OpRefresh]
			row.Shed = row.Backend.ShedFull + row.Backend.ShedWait
		}
		for _, t := range r.Thresholds {
			if !t.OK {
				row.Failed = append(row.Failed, t.Expr)
			}
		}
		for _, inv := range r.Invariants {
			if !inv.OK && inv.Gated {
				row.Failed = append(row.Failed, inv.Expr)
			}
		}
		rows[i] = row
	}
	return rows
}

// WriteSweepText writes the comparison as a text table, a row per point.
func WriteSweepText(w io.Writer, s *SweepResult) error {
	rows := s.Rows()
	head := []string{"point", "verdict", "refreshes", "ok %", "p99 ms", "peak/s", "peak/mean", "max in flight", "retries", "shed 503", "forced sign-outs", "user errors"}
	table := [][]string{head}
	for _, r := range rows {
		table = append(table, []string{r.Point, r.Verdict, fmt.Sprint(r.Refresh), fmt.Sprintf("%.2f", 100*r.OKShare), fmt.Sprintf("%.1f", r.P99Ms),
			fmt.Sprintf("%.0f", r.Peak), fmt.Sprintf("%.2f", r.PeakMean), fmt.Sprint(r.Inflight), fmt.Sprint(r.Retries), fmt.Sprint(r.Shed),
			fmt.Sprint(r.Forced), fmt.Sprint(r.UserErrs)})
	}
	width := make([]int, len(head))
	for _, row := range table {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, row := range table {
		for i, c := range row {
			pad := width[i] - len([]rune(c))
			if i == 0 {
				b.WriteString(c + strings.Repeat(" ", pad))
			} else {
				b.WriteString("  " + strings.Repeat(" ", pad) + c)
			}
		}
		b.WriteString("\n")
	}
	for _, r := range rows {
		if len(r.Failed) > 0 {
			fmt.Fprintf(&b, "%s failed: %s\n", r.Point, strings.Join(r.Failed, "; "))
		}
	}
	if len(rows) > 1 {
		best := func(key func(Row) float64) Row {
			m := rows[0]
			for _, r := range rows[1:] {
				if key(r) < key(m) {
					m = r
				}
			}
			return m
		}
		pm := best(func(r Row) float64 { return r.PeakMean })
		calls := best(func(r Row) float64 { return float64(r.Refresh) })
		errs := best(func(r Row) float64 { return float64(r.UserErrs) })
		fmt.Fprintf(&b, "\nflattest herd (lowest peak/mean): %s (%.2f)\nfewest refreshes: %s (%d)\nfewest user-visible errors: %s (%d)\n",
			pm.Point, pm.PeakMean, calls.Point, calls.Refresh, errs.Point, errs.UserErrs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sweepJSON is sweep.json.
type sweepJSON struct {
	Points []Row `json:"points"`
	Failed int   `json:"failed"`
}

// WriteSweepJSON writes the comparison as JSON: a row per point.
func WriteSweepJSON(w io.Writer, s *SweepResult) error {
	b, err := json.MarshalIndent(sweepJSON{Points: s.Rows(), Failed: s.Failed()}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sweep: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
