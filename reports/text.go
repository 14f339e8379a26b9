package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the end-of-run summary a person reads in the terminal.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	p := r.Profile
	state := "complete"
	if r.Partial {
		state = "PARTIAL (interrupted)"
		for _, t := range r.Thresholds {
			if t.Aborted {
				state = "PARTIAL (stopped by threshold " + t.Expr + ")"
			}
		}
	}
	wall := r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond)
	fmt.Fprintf(&b, "stampede %s · run %s · %s\n", r.ToolVersion, r.RunID, state)
	fmt.Fprintf(&b, "profile %s · target %s %s\n", p.Name, r.Target.Kind, r.Target.URL)
	if r.Mode == ModeSimulate {
		fmt.Fprintf(&b, "%d clients · %s simulated in virtual time (stampede simulate) · ramp %s · seed %d\n\n", p.Clients, wall, p.Ramp, p.Seed)
	} else {
		fmt.Fprintf(&b, "%d clients · %s wall (%s simulated at ×%g) · ramp %s · seed %d\n\n",
			p.Clients, wall, time.Duration(float64(wall)*p.TimeScale).Round(time.Second), p.TimeScale, p.Ramp, p.Seed)
	}

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tok\terrors\terror %\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	noRefresh := NoRefreshReason(r)
	for _, name := range OpNames {
		o := r.Ops[name]
		if name == OpRefresh && noRefresh != "" {
			fmt.Fprintf(tw, "%s\t0\t0\t0\t-\t-\t-\t-\t-\t-\t\n", name) // kept, with the reason below
			continue
		}
		if o == nil || o.Count == 0 {
			continue
		}
		l := o.LatencyMs
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, o.Count, o.OK, o.ErrorCount(),
			percent(o.ErrorCount(), o.Count), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	tw.Flush()
	if noRefresh != "" {
		b.WriteString("no refreshes: " + noRefresh + "\n")
	}
	b.WriteString("latency runs from each request's intended start (coordinated omission corrected);\n")
	b.WriteString("service time, from the moment the request was sent:\n")
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil || o.Count == 0 || o.ServiceMs == nil {
			continue
		}
		s := o.ServiceMs
		fmt.Fprintf(&b, "  %-9s p50 %s  p99 %s  max %s ms\n", name, ms(s.P50), ms(s.P99), ms(s.Max))
	}

	var errs []string
	for _, name := range OpNames {
		o := r.Ops[name]
		if o == nil {
			continue
		}
		var parts []string
		for _, c := range ErrorClasses {
			if n := o.Errors[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", c, n))
			}
		}
		if len(parts) > 0 {
			errs = append(errs, fmt.Sprintf("  %-9s %s", name, strings.Join(parts, ", ")))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nerrors by class:\n" + strings.Join(errs, "\n") + "\n")
	}
	writeServerSaid(&b, r)

	if len(r.Events) > 0 {
		b.WriteString("\nfleet events (burst, 401s and sign-outs in the 10 simulated seconds after each; after the restore for an outage):\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tevent\tat\tstart s\tend s\tclients\tsessions\tburst_10s\tapi 401s\tforced sign-outs\t")
		for _, e := range r.Events {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t\n", e.Index, e.Type, e.At, e.StartS, e.EndS,
				e.Clients, e.Sessions, e.Burst10s, e.API401, e.ForcedSignouts)
			if e.Error != "" {
				fmt.Fprintf(tw, "  \t  error: %s\t\t\t\t\t\t\t\t\t\n", e.Error)
			}
		}
		tw.Flush()
	}

	writeStagesText(&b, r)

	h := r.Herd
	fmt.Fprintf(&b, "\nherd       peak %.0f/s, mean %.0f/s (peak/mean %.2f) · dispersion %.2f · max in flight %d · amplification %.3f · retries %d (%.1f%%) · duplicate refreshes %d\n",
		h.PeakRPS, h.MeanRPS, h.PeakToMean, h.Dispersion, h.MaxInflight, h.Amplification, h.Retries, 100*h.RetriesShare, h.DuplicateRefreshes)

	s := r.Sessions
	fmt.Fprintf(&b, "sessions   %s · %d forced sign-outs · %d re-sign-ins\n", byStatus(s.ByStatus), s.ForcedSignouts, s.ReSignIns)
	if len(s.ServerByStatus) > 0 {
		fmt.Fprintf(&b, "           the backend's sessions: %s\n", byStatus(s.ServerByStatus))
	}
	if f := r.TimeScale.Flag(); f != "" {
		fmt.Fprintf(&b, "           %s\n", f)
	}
	if len(s.ForcedSignoutsByCause) > 0 || s.SignInsCancelled > 0 || s.SignInFlowFailures > 0 {
		fmt.Fprintf(&b, "           forced sign-outs by cause: %s · %d sign-ins cancelled (users left) · %d sign-in flows failed\n",
			byStatus(s.ForcedSignoutsByCause), s.SignInsCancelled, s.SignInFlowFailures)
	}
	q := r.Requests
	fmt.Fprintf(&b, "requests   %d issued · %d settled (%d ok, %d user-visible errors, %d cancelled at the end) · %d lost · %d retry loops · %d stale-token retries\n",
		q.Issued, q.Settled, q.OK, q.UserVisibleErrors, q.Cancelled, q.Lost, q.RetryLoops, q.StaleTokenRetries)
	e := r.Engine
	fmt.Fprintf(&b, "engine     lag p50 %s ms, p99 %s ms, max %s ms · peak %d goroutines · max RSS %.0f MiB\n",
		ms(e.LagMs.P50), ms(e.LagMs.P99), ms(e.LagMs.Max), e.Goroutines, float64(e.MaxRSSBytes)/(1<<20))
	if c := e.Connections; c != (Connections{}) {
		mode := p.Connections
		if mode == "" {
			mode = "shared"
		}
		fmt.Fprintf(&b, "conns      %s · %d dials · %d TLS handshakes · peak %d open · %d source %s · descriptor limit %s",
			mode, c.Dials, c.TLSHandshakes, c.PeakOpen, c.SourceAddrs, plural(c.SourceAddrs, "address", "addresses"), fdLimit(e.FDLimit))
		if c.PortsExhausted > 0 || c.FDsExhausted > 0 {
			fmt.Fprintf(&b, " · failed dials: %d out of ephemeral ports, %d out of descriptors", c.PortsExhausted, c.FDsExhausted)
		}
		if s := protocolSummary(c); s != "" {
			b.WriteString(" · " + s)
		}
		b.WriteString("\n")
	}
	if l := TLSLine(e.TLS); l != "" {
		b.WriteString("tls        " + l + "\n")
	}
	if w := GeneratorWarning(r); w != "" {
		b.WriteString("warning    " + w + "\n")
	}
	if w := CredentialsWarning(r); w != "" {
		b.WriteString("warning    " + w + "\n")
	}
	if len(r.Thresholds) > 0 || len(r.Invariants) > 0 {
		fmt.Fprintf(&b, "\nthresholds (%s):\n", r.Verdict)
		for _, t := range r.Thresholds {
			fmt.Fprintf(&b, "  %s\n", ThresholdLine(t))
		}
		for _, i := range r.Invariants {
			fmt.Fprintf(&b, "  %s\n", InvariantLine(i))
			for _, s := range shownSamples(r, i) {
				fmt.Fprintf(&b, "      %s\n", SampleLine(s))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func percent(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", 100*float64(n)/float64(of))
}

func byStatus(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// lagLimitMs is the scheduling lag p99 above which the generator, not the
// target, may have shaped the latencies.
const lagLimitMs = 10

// GeneratorWarning says when stampede itself was the bottleneck: its
// scheduling lag p99 above 10 ms, or above the refresh service time's p99.
// "" when it kept up.
func GeneratorWarning(r *Result) string {
	lag := r.Engine.LagMs.P99
	if lag <= 0 {
		return ""
	}
	svc := 0.0
	if op := r.Ops[OpRefresh]; op != nil && op.ServiceMs != nil {
		svc = op.ServiceMs.P99
	}
	if lag <= lagLimitMs && (svc == 0 || lag <= svc) {
		return ""
	}
	return fmt.Sprintf("the load generator fell behind (scheduling lag p99 %s ms): latencies include stampede's own delay; run fewer clients per process or shard the run", ms(lag))
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fdLimit writes a descriptor limit, "unknown" for 0.
func fdLimit(n uint64) string {
	if n == 0 {
		return "unknown"
	}
	return strconv.FormatUint(n, 10)
}
