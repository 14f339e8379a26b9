package capacity

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("capacity report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the stage table and the knee for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-17s %10s %12s %8s %7s %8s %6s %9s %8s %8s\n",
		"clients", "verdict", "req/s", "refresh p99", "errors", "ampl", "retries", "p/mean", "inflight", "503 %", "lag p99")
	for _, s := range r.Stages {
		fmt.Fprintf(&b, "%-8d %-17s %10.1f %9.1f ms %7.1f%% %7.2f %8d %6.2f %9d %7.1f%% %5.1f ms\n",
			s.Clients, s.Verdict, s.ThroughputRPS, s.RefreshP99Ms, 100*s.ErrorRate, s.Amplification, s.Retries,
			s.PeakToMean, s.MaxInflight, 100*s.ShedShare, s.LagP99Ms)
	}
	b.WriteString("\n" + r.Summary + "\n")
	if r.Broke != nil {
		fmt.Fprintf(&b, "broke: %s: %s against %s\n", r.Broke.Expr, valueString(r.Broke.Value, r.Broke.Unit), valueString(r.Broke.Limit, r.Broke.Unit))
	}
	if len(r.Moved) > 0 {
		fmt.Fprintf(&b, "moved most from %d to %d clients:\n", r.LastPass, r.FirstFail)
		for _, m := range r.Moved {
			fmt.Fprintf(&b, "  %-15s %10.3g → %.3g\n", m.Name, m.Pass, m.Fail)
		}
	}
	for _, s := range r.Stages {
		if s.Behind != "" {
			fmt.Fprintf(&b, "stage of %d clients: %s; the knee is not taken from it\n", s.Clients, s.Behind)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the summary and the stage table for a CI job to post.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "**stampede capacity**: %s\n\n", r.Summary)
	b.WriteString("| clients | verdict | req/s | refresh p99 (ms) | errors | amplification | retries | peak/mean | in flight | 503 shed |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Stages {
		fmt.Fprintf(&b, "| %d | %s | %.1f | %.1f | %.1f %% | %.2f | %d | %.2f | %d | %.1f %% |\n",
			s.Clients, s.Verdict, s.ThroughputRPS, s.RefreshP99Ms, 100*s.ErrorRate, s.Amplification, s.Retries,
			s.PeakToMean, s.MaxInflight, 100*s.ShedShare)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
