package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// reportOptions holds stampede report's flags and streams.
type reportOptions struct {
	streams

	format string
	output string
	op     string
}

func newReportCmd(s streams) *cobra.Command {
	o := &reportOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Render a result.json as text, JSON, HTML, JUnit, Markdown or HdrHistogram percentiles",
		Long: "Render a result.json written by stampede run in another format:\n" +
			"  text      the terminal summary (default)\n" +
			"  json      the result itself, indented\n" +
			"  html      a self-contained page with the charts\n" +
			"  junit     JUnit XML, one testcase per threshold, for CI test reports\n" +
			"  markdown  a summary for a CI job page (GitHub's $GITHUB_STEP_SUMMARY)\n" +
			"  hgrm      HdrHistogram percentile distributions in ms, one section per\n" +
			"            operation; --op picks one, a file HdrHistogram's plotter reads",
		Example: "  stampede report results/result.json\n" +
			"  stampede report results/result.json --format junit -o results/junit.xml\n" +
			"  stampede report results/result.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n" +
			"  stampede report results/result.json --format hgrm --op refresh -o refresh.hgrm",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return o.run(args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: "+strings.Join(reports.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write to this file instead of standard output (replaced atomically)")
	f.StringVar(&o.op, "op", "", "with --format hgrm: only this operation ("+strings.Join(reports.OpNames, ", ")+")")
	return cmd
}

// run renders the result file at path in full before writing anything, so a
// failure leaves no partial output behind.
func (o *reportOptions) run(path string) error {
	if !slices.Contains(reports.Formats(), o.format) {
		return usageErrorf("--format: unknown format %s; formats: %s", profiles.Quote(o.format), strings.Join(reports.Formats(), ", "))
	}
	if o.op != "" {
		if o.format != "hgrm" {
			return usageErrorf("--op: applies to --format hgrm only, not %s", o.format)
		}
		if !slices.Contains(reports.OpNames, o.op) {
			return usageErrorf("--op: unknown operation %s; operations: %s", profiles.Quote(o.op), strings.Join(reports.OpNames, ", "))
		}
	}
	r, err := reports.ReadFile(path)
	if err != nil {
		return usageError(err)
	}
	var b bytes.Buffer
	if o.op != "" {
		err = reports.WriteHgrm(&b, r, o.op)
	} else {
		err = reports.Render(&b, r, o.format)
	}
	switch {
	case errors.Is(err, reports.ErrInvalidResult):
		return usageErrorf("%s: %w", path, err)
	case err != nil:
		return fmt.Errorf("render %s as %s: %w", path, o.format, err)
	}
	if o.output == "" || o.output == "-" {
		_, err := o.out.Write(b.Bytes())
		return err
	}
	return reports.WriteAtomic(o.output, b.Bytes())
}
