package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// compareOptions holds stampede compare's flags and streams.
type compareOptions struct {
	streams

	maxRegression string
	baseline      bool
	budget        string
	format        string
	output        string
	// reports are the --report FORMAT=FILE extra renderings.
	reports []string
}

func newCompareCmd(s streams) *cobra.Command {
	o := &compareOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json | compare --baseline BASE1.json BASE2.json ... NEW.json",
		Short: "Compare a result with a baseline; exit 99 on a regression",
		Long: "Compare a result with a baseline, metric by metric: p50, p95, p99 and max latency\n" +
			"and the error rate of each operation, herd peak-to-mean and amplification, lost\n" +
			"requests and forced sign-outs. Each is worse when higher. A gated metric regresses\n" +
			"when its change exceeds both its noise floor (latencies: 1 ms or the histogram's\n" +
			"precision) and --max-regression, and the 95% interval of the change lies wholly\n" +
			"above 0 (latency percentiles: bootstrap from the HDR histograms, 2,000 seeded\n" +
			"resamples). Maximums are shown but not gated. With --baseline, every argument but\n" +
			"the last is a baseline run and their spread widens the intervals: recommended for\n" +
			"CI. A regression, or a gated metric without data in the new run, exits 99.\n" +
			"See docs/compare.md.",
		Example: "  stampede compare baseline/result.json results/result.json\n" +
			"  stampede compare --baseline main-1.json main-2.json main-3.json results/result.json --budget perf/budget.yaml\n" +
			"  stampede compare base.json new.json --format markdown --report junit=compare.xml --report html=compare.html",
		Args: func(_ *cobra.Command, args []string) error {
			if o.baseline {
				if len(args) < 2 {
					return fmt.Errorf("--baseline wants at least one baseline result and the new one, got %d file(s)", len(args))
				}
				return nil
			}
			if len(args) != 2 {
				return fmt.Errorf("accepts BASE.json NEW.json (2 args), received %d; for several baselines use --baseline", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return o.run(args[:len(args)-1], args[len(args)-1])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.maxRegression, "max-regression", "10%", `relative limit: a change must exceed this share of the base (and the noise floor) to count; "10%" or "0.1"`)
	f.BoolVar(&o.baseline, "baseline", false, "every argument but the last is a baseline run; their spread widens the noise band")
	f.StringVar(&o.budget, "budget", "", "YAML file of per-metric rules (max_change, floor, gate, off); see docs/compare.md")
	f.StringVar(&o.format, "format", "text", "format of the comparison on stdout (or -o): "+strings.Join(reports.ComparisonFormats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the comparison to FILE instead of stdout")
	f.StringArrayVar(&o.reports, "report", nil, "also write the comparison as FORMAT to FILE, FORMAT=FILE such as markdown=compare.md (repeatable)")
	return cmd
}

// run compares the result at newPath with the ones at basePaths.
func (o *compareOptions) run(basePaths []string, newPath string) error {
	limit, err := reports.ParseRelativeLimit(o.maxRegression)
	if err != nil {
		return usageErrorf("--max-regression: %w", err)
	}
	if !slices.Contains(reports.ComparisonFormats(), o.format) {
		return usageErrorf("--format: unknown format %s; formats: %s", profiles.Quote(o.format), strings.Join(reports.ComparisonFormats(), ", "))
	}
	type extra struct{ format, file string }
	var extras []extra
	for _, r := range o.reports {
		format, file, ok := strings.Cut(r, "=")
		if !ok || file == "" || !slices.Contains(reports.ComparisonFormats(), format) {
			return usageErrorf("--report %s: want FORMAT=FILE, FORMAT one of %s", profiles.Quote(r), strings.Join(reports.ComparisonFormats(), ", "))
		}
		extras = append(extras, extra{format, file})
	}
	opt := reports.CompareOptions{MaxRegression: limit}
	if o.budget != "" {
		b, err := reports.ReadBudget(o.budget)
		if err != nil {
			var be *reports.BudgetError
			if errors.As(err, &be) {
				return usageErrorf("--budget %w", err)
			}
			return usageErrorf("--budget: %w", err)
		}
		opt.Budget = b
	}
	var bases []*reports.Result
	for _, p := range basePaths {
		r, err := reports.ReadFile(p)
		if err != nil {
			return usageError(err)
		}
		bases = append(bases, r)
	}
	cur, err := reports.ReadFile(newPath)
	if err != nil {
		return usageError(err)
	}
	c := reports.CompareBaselines(bases, cur, opt)
	for _, e := range extras {
		if err := writeComparisonFile(e.file, c, e.format); err != nil {
			return err
		}
	}
	if o.output != "" {
		if err := writeComparisonFile(o.output, c, o.format); err != nil {
			return err
		}
	} else if err := reports.RenderComparison(o.out, c, o.format); err != nil {
		return err
	}
	if f := c.Failures(); len(f) > 0 {
		names := make([]string, len(f))
		for i, m := range f {
			names[i] = m.Name
		}
		return &exitError{code: exitThresholds, err: fmt.Errorf("%s: %d gated metric(s) regressed against %s: %s",
			newPath, len(f), strings.Join(basePaths, ", "), strings.Join(names, ", "))}
	}
	return nil
}

// writeComparisonFile renders c to file (a write failure is exit 1).
func writeComparisonFile(file string, c reports.Comparison, format string) error {
	var b bytes.Buffer
	if err := reports.RenderComparison(&b, c, format); err != nil {
		return err
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}
