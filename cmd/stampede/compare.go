package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/reports"
)

// compareOptions holds stampede compare's flags and streams.
type compareOptions struct {
	streams

	maxRegression string
}

func newCompareCmd(s streams) *cobra.Command {
	o := &compareOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Compare a result with a baseline; exit 99 on a regression",
		Long: "Compare a result with a baseline, metric by metric: p50, p95, p99 and max\n" +
			"latency and the error rate of each operation, herd peak-to-mean and\n" +
			"amplification, lost requests and forced sign-outs. Each is worse when higher;\n" +
			"one that grew by more than --max-regression is a regression (from a base of 0,\n" +
			"any increase is), and stampede exits 99.",
		Example: "  stampede compare baseline/result.json results/result.json\n" +
			"  stampede compare baseline/result.json results/result.json --max-regression 25%",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error { return o.run(args[0], args[1]) },
	}
	cmd.Flags().StringVar(&o.maxRegression, "max-regression", "10%", `largest tolerated growth of a metric: "10%" or "0.1"`)
	return cmd
}

// run compares the result at newPath with the one at basePath.
func (o *compareOptions) run(basePath, newPath string) error {
	limit, err := parseMaxRegression(o.maxRegression)
	if err != nil {
		return usageErrorf("--max-regression: %w", err)
	}
	base, err := reports.ReadFile(basePath)
	if err != nil {
		return usageError(err)
	}
	cur, err := reports.ReadFile(newPath)
	if err != nil {
		return usageError(err)
	}
	c := reports.Compare(base, cur, limit)
	if err := reports.WriteComparison(o.out, c); err != nil {
		return err
	}
	if n := len(c.Regressions()); n > 0 {
		return &exitError{code: exitThresholds, err: fmt.Errorf("%s: %d metric(s) regressed past %s against %s",
			newPath, n, o.maxRegression, basePath)}
	}
	return nil
}

// parseMaxRegression reads a tolerated regression as a fraction: "10%" is
// 0.1, and so is "0.1". A bare number above 1 is refused as ambiguous
// ("10" could mean 10% or 1000%); write it with a percent sign.
func parseMaxRegression(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf(`want a percentage such as "10%%" or a fraction such as "0.1", got %q`, s)
	}
	if isPct {
		v /= 100
	} else if v > 1 {
		return 0, fmt.Errorf(`%q is ambiguous: write "%s%%" for %s percent, or a fraction such as "0.1"`, s, t, t)
	}
	if v < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", s)
	}
	return v, nil
}
