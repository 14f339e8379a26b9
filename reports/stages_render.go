package reports

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// writeStagesText writes a staged run's stage table for the text summary.
func writeStagesText(b *strings.Builder, r *Result) {
	if len(r.Stages) == 0 {
		return
	}
	b.WriteString("\nstages (requests counted where answered, clients where they joined or left):\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tclients\tspan s\tjoined\tleft\trefreshes\trefresh p99\terrors\t503 shed\tamplification\tretries\tpeak/mean\tlag p99\tthresholds\t")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "  %d\t%d\t%.1f–%.1f\t%d\t%d\t%d\t%s\t%s\t%s\t%.3f\t%d\t%.2f\t%s\t%s\t\n", s.Index, s.Clients, s.StartS, s.EndS,
			s.Joined, s.Left, stageCount(s, OpRefresh), stageP99(s, OpRefresh), stageErrors(s), stageShed(s),
			s.Herd.Amplification, s.Herd.Retries, s.Herd.PeakToMean, ms(s.LagMs.P99)+" ms", stageVerdict(s))
	}
	tw.Flush()
}

// writeStagesMarkdown writes a staged run's stage table in Markdown.
func writeStagesMarkdown(b *strings.Builder, r *Result) {
	if len(r.Stages) == 0 {
		return
	}
	b.WriteString("### Stages\n\n")
	b.WriteString("| # | clients | span s | joined | left | refreshes | refresh p99 | errors | 503 shed | amplification | retries | thresholds |\n")
	b.WriteString("|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, s := range r.Stages {
		fmt.Fprintf(b, "| %d | %d | %.1f–%.1f | %d | %d | %d | %s | %s | %s | %.3f | %d | %s |\n", s.Index, s.Clients, s.StartS, s.EndS,
			s.Joined, s.Left, stageCount(s, OpRefresh), stageP99(s, OpRefresh), stageErrors(s), stageShed(s),
			s.Herd.Amplification, s.Herd.Retries, stageVerdict(s))
	}
	b.WriteString("\n")
}

func stageCount(s Stage, op string) int64 {
	if o := s.Ops[op]; o != nil {
		return o.Count
	}
	return 0
}

func stageP99(s Stage, op string) string {
	if o := s.Ops[op]; o != nil && o.Count > 0 {
		return ms(o.LatencyMs.P99) + " ms"
	}
	return "-"
}

func stageErrors(s Stage) string {
	var n, errs int64
	for _, o := range s.Ops {
		n += o.Count
		errs += o.ErrorCount()
	}
	if n == 0 {
		return "-"
	}
	return percent(errs, n) + "%"
}

func stageShed(s Stage) string {
	n, share := s.Shed()
	return fmt.Sprintf("%d (%.1f%%)", n, 100*share)
}

func stageVerdict(s Stage) string {
	if s.Verdict == "" {
		return "-"
	}
	var failed []string
	for _, t := range s.Thresholds {
		if !t.OK {
			failed = append(failed, t.Expr)
		}
	}
	if len(failed) == 0 {
		return s.Verdict
	}
	return s.Verdict + ": " + strings.Join(failed, ", ")
}
