package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/reports"
)

// mergeOptions holds stampede merge's flags and streams.
type mergeOptions struct {
	streams

	output string
}

func newMergeCmd(s streams) *cobra.Command {
	o := &mergeOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "merge RESULT.json... [-o merged.json]",
		Short: "Merge the results of a sharded run into the whole fleet's; exit 99 if its thresholds fail",
		Long: "Merge the result.json of every shard of a run (stampede run --shard i/n\n" +
			"--start-at T) into one result.json of the whole fleet: histograms merged\n" +
			"exactly, counters added, timelines aligned on absolute time, herd figures\n" +
			"recomputed from the merged timeline and the profile's thresholds evaluated\n" +
			"on the merge. Results of different profiles, seeds, shard counts or runs,\n" +
			"a shard given twice and a missing shard are refused (exit 2).\n" +
			"Arguments may be glob patterns (\"/results/*/result.json\"), expanded by\n" +
			"stampede itself, so no shell is needed. Every report renders from the\n" +
			"merge: stampede report merged.json --format html.",
		Example: "  stampede merge shard-0/result.json shard-1/result.json -o merged.json\n" +
			"  stampede merge '/results/*/result.json' -o /results/merged.json",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write the merged result.json here (replaced atomically); without it, only the summary is printed")
	return cmd
}

// run reads every result, merges them, writes the merge and prints its
// summary; bad input and refusals name the file and exit 2.
func (o *mergeOptions) run(ctx context.Context, args []string) error {
	paths, err := expandResultArgs(args)
	if err != nil {
		return err
	}
	results := make([]*reports.Result, len(paths))
	var bad []error
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rerr error
		if results[i], rerr = reports.ReadFile(p); rerr != nil {
			bad = append(bad, rerr) // every bad file is named, not the first alone
		}
	}
	if len(bad) > 0 {
		return usageError(errors.Join(bad...))
	}
	merged, err := reports.Merge(results...)
	if err != nil {
		var me *reports.MergeError
		if errors.As(err, &me) {
			return usageError(fmt.Errorf("merge: %w", me.Named(paths)))
		}
		return fmt.Errorf("merge: %w", err)
	}
	if o.output != "" && o.output != "-" {
		if err := reports.WriteFile(o.output, merged); err != nil {
			return err
		}
	}
	if err := reports.WriteText(o.out, merged); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "\nmerged %d shards of run %s", len(paths), merged.RunID)
	if o.output != "" && o.output != "-" {
		fmt.Fprintf(o.out, ": %s", o.output)
	}
	fmt.Fprintln(o.out)
	return thresholdsFailed(merged)
}

// expandResultArgs expands the arguments that are glob patterns and name
// no file themselves (in a container there may be no shell to do it),
// keeping the order given and sorting each pattern's matches. A pattern
// that matches nothing, or a bad one, is a usage error naming it.
func expandResultArgs(args []string) ([]string, error) {
	var paths []string
	for _, a := range args {
		if _, err := os.Stat(a); err == nil || !strings.ContainsAny(a, "*?[") {
			paths = append(paths, a)
			continue
		}
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, usageErrorf("%s: %w", a, err)
		}
		if len(matches) == 0 {
			return nil, usageErrorf("%s: no file matches", a)
		}
		slices.Sort(matches)
		paths = append(paths, matches...)
	}
	return paths, nil
}
