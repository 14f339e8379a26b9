package reports

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteMarkdown writes r as GitHub-flavoured Markdown fit for a CI job
// summary page ($GITHUB_STEP_SUMMARY): the verdict, the run's identity,
// the thresholds, the operations, the herd figures, the fleet events, and
// what happened to sessions and requests.
func WriteMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	p := r.Profile
	verdict := "PASS"
	if r.Verdict == VerdictFail {
		verdict = "FAIL"
	}
	if r.Partial {
		verdict += " (partial: the run was interrupted)"
	}
	fmt.Fprintf(&b, "## stampede: %s\n\n", verdict)
	switch failed := countFailedThresholds(r); {
	case len(r.Thresholds) == 0:
		b.WriteString("No thresholds were set.\n\n")
	case failed == 0:
		fmt.Fprintf(&b, "All %d thresholds held.\n\n", len(r.Thresholds))
	default:
		fmt.Fprintf(&b, "%d of %d thresholds failed.\n\n", failed, len(r.Thresholds))
	}
	if s := invariantSummary(r); s != "" {
		b.WriteString(s + "\n\n")
	}

	wall := r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond)
	fmt.Fprintf(&b, "| run | profile | target | clients | wall time | seed | stampede |\n|---|---|---|--:|--:|--:|---|\n")
	fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %d | %s |\n\n", mdCode(r.RunID), mdCode(p.Name),
		mdCell(strings.TrimSpace(r.Target.Kind+" "+r.Target.URL)), p.Clients, wall, p.Seed, mdCell(r.ToolVersion))
	if !r.StartedAt.IsZero() {
		fmt.Fprintf(&b, "Started %s, time scale ×%g, ramp %s.\n\n", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"), p.TimeScale, p.Ramp)
	}

	if len(r.Thresholds) > 0 || len(r.Invariants) > 0 {
		b.WriteString("### Thresholds\n\n| threshold | value | result |\n|---|--:|---|\n")
		for _, t := range r.Thresholds {
			res := "pass"
			if !t.OK {
				res = "**FAIL**"
			}
			if t.Aborted {
				res += " (stopped the run)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCode(t.Expr), thresholdValueText(t), res)
		}
		var evidence []string
		for _, i := range r.Invariants {
			res := "pass"
			switch {
			case i.Relaxed:
				res = "relaxed (" + mdCode("invariants."+i.Name+": off") + ")"
			case !i.Gated:
				res = "not gated: " + mdCell(strings.TrimPrefix(i.Note, "not gated: "))
			case !i.OK:
				res = "**FAIL**"
				if i.Note != "" {
					res += ": " + mdCell(i.Note)
				}
			}
			fmt.Fprintf(&b, "| %s (invariant) | %s | %s |\n", mdCode(i.Expr), fmtFigure(i.Value), res)
			if ss := shownSamples(r, i); len(ss) > 0 {
				evidence = append(evidence, fmt.Sprintf("**%s**, the first %d of %s:\n", mdCell(i.Expr), len(ss), fmtFigure(i.Value)))
				for _, s := range ss {
					evidence = append(evidence, "- "+mdCell(SampleLine(s))+"\n")
				}
				evidence = append(evidence, "\n")
			}
		}
		b.WriteString("\n")
		if len(evidence) > 0 {
			b.WriteString("#### Evidence\n\n")
			b.WriteString(strings.Join(evidence, ""))
		}
	}

	b.WriteString("### Operations\n\nLatency in ms from each request's intended start (coordinated omission corrected).\n\n")
	b.WriteString("| operation | count | errors | error % | p50 | p95 | p99 | max |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil || o.Count == 0 {
			continue
		}
		l := o.LatencyMs
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s |\n", name, o.Count, o.ErrorCount(),
			percent(o.ErrorCount(), o.Count), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
	}
	b.WriteString("\n")
	if why := NoRefreshReason(r); why != "" {
		b.WriteString("**No refreshes:** " + mdCell(why) + "\n\n")
	}
	writeMarkdownServerSaid(&b, r)
	writeProxyMarkdown(&b, r)

	h := r.Herd
	b.WriteString("### Refresh herd\n\n| figure | value |\n|---|--:|\n")
	fmt.Fprintf(&b, "| peak attempts/s (any 1 s window) | %s |\n", fmtFigure(h.PeakRPS))
	fmt.Fprintf(&b, "| mean attempts/s (after ramp) | %s |\n", fmtFigure(h.MeanRPS))
	fmt.Fprintf(&b, "| peak to mean | %s |\n", fmtFigure(h.PeakToMean))
	fmt.Fprintf(&b, "| max in flight | %d |\n", h.MaxInflight)
	fmt.Fprintf(&b, "| amplification (attempts per success) | %s |\n", fmtFigure(h.Amplification))
	fmt.Fprintf(&b, "| duplicate refreshes | %d |\n", h.DuplicateRefreshes)
	fmt.Fprintf(&b, "| retries | %d (%s%%) |\n", h.Retries, fmtFigure(100*h.RetriesShare))
	fmt.Fprintf(&b, "| dispersion (variance/mean per 100 ms) | %s |\n\n", fmtFigure(h.Dispersion))

	if len(r.Events) > 0 {
		b.WriteString("### Fleet events\n\nCounted over the 10 simulated seconds after each event (after the restore, for an outage).")
		if r.Mode == ModeProxy {
			b.WriteString(" recovery_s: seconds from the fault's end until the refresh and API rates are back within 20 % of the 30 s before it, and the errors at its level, for 5 s.")
		}
		b.WriteString("\n\n")
		b.WriteString("| # | event | at | burst_10s | recovery_s | forced sign-outs |\n|--:|---|---|--:|--:|--:|\n")
		for _, e := range r.Events {
			rec := "not recovered"
			if e.Error != "" {
				rec = "-"
			} else if e.RecoveryS != nil {
				rec = fmt.Sprintf("%.1f", *e.RecoveryS)
			} else if e.RecoveryReason != "" {
				rec += " (" + mdCell(e.RecoveryReason) + ")"
			}
			typ := mdCell(e.Type)
			if e.Error != "" {
				typ += " (refused: " + mdCell(e.Error) + ")"
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %d |\n", e.Index, typ, mdCell(e.At), e.Burst10s, rec, e.ForcedSignouts)
		}
		b.WriteString("\n")
	}

	if r.Mode == ModeProxy { // sessions, requests and engine are a run's
		_, err := io.WriteString(w, b.String())
		return err
	}
	writeStagesMarkdown(&b, r)
	writeTLSMarkdown(&b, r.Engine.TLS)

	s := r.Sessions
	fmt.Fprintf(&b, "**Sessions:** %s · %d forced sign-outs · %d re-sign-ins  \n", mdCell(byStatus(s.ByStatus)), s.ForcedSignouts, s.ReSignIns)
	if len(s.ForcedSignoutsByCause) > 0 {
		fmt.Fprintf(&b, "**Forced sign-outs by cause:** %s  \n", mdCell(byStatus(s.ForcedSignoutsByCause)))
	}
	if f := r.TimeScale.Flag(); f != "" {
		fmt.Fprintf(&b, "**Time scale:** %s  \n", mdCell(f))
	}
	q := r.Requests
	fmt.Fprintf(&b, "**Requests:** %d issued · %d settled (%d ok, %d user-visible errors, %d cancelled at the end) · %d lost  \n",
		q.Issued, q.Settled, q.OK, q.UserVisibleErrors, q.Cancelled, q.Lost)
	e := r.Engine
	if c := e.Connections; c != (Connections{}) {
		fmt.Fprintf(&b, "**Connections:** %s  \n", mdCell(connectionsSummary(p.Connections, c)))
	}
	fmt.Fprintf(&b, "**Engine:** scheduling lag p50 %s ms, p99 %s ms, max %s ms\n", ms(e.LagMs.P50), ms(e.LagMs.P99), ms(e.LagMs.Max))
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes s for a GitHub table cell: pipes and line breaks would
// end the cell, and "<" could open an HTML tag.
func mdCell(s string) string {
	return strings.ReplaceAll(mdOneLine(s), "<", "&lt;")
}

// mdCode puts s in a code span inside a table cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(mdOneLine(s), "`", "'") + "`"
}

// mdOneLine escapes pipes and joins the lines of s.
func mdOneLine(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}
