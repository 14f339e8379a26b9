package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/profiles"
)

// profilesOptions holds stampede profiles' streams.
type profilesOptions struct {
	streams
}

func newProfilesCmd(s streams) *cobra.Command {
	o := &profilesOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "List, show and validate profiles",
		Long: "A profile is a YAML file describing a run: the fleet, the SDK of each client,\n" +
			"the app's habits, the network and a timeline of fleet-wide events.\n" +
			"Built-in profiles ship with stampede; run one with stampede run -p NAME,\n" +
			"or your own with stampede run -p FILE.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the built-in profiles",
			Args:  cobra.NoArgs,
			RunE:  func(*cobra.Command, []string) error { return o.list() },
		},
		&cobra.Command{
			Use:   "show NAME",
			Short: "Print a built-in profile's YAML as shipped",
			Args:  cobra.ExactArgs(1),
			RunE:  func(_ *cobra.Command, args []string) error { return o.show(args[0]) },
		},
		&cobra.Command{
			Use:   "validate FILE...",
			Short: "Check profile files; print every problem with its file, line and field",
			Args:  cobra.MinimumNArgs(1),
			RunE:  func(_ *cobra.Command, args []string) error { return o.validate(args) },
		},
	)
	for _, c := range cmd.Commands() {
		if v := c.Args; v != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := v(cmd, args); err != nil {
					return usageError(err)
				}
				return nil
			}
		}
	}
	return cmd
}

// list prints each built-in profile's name and the first line of its description.
func (o *profilesOptions) list() error {
	tw := tabwriter.NewWriter(o.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION")
	for _, name := range profiles.BuiltinNames() {
		p, err := profiles.Builtin(name)
		if err != nil {
			return fmt.Errorf("built-in profile %s: %w", name, err)
		}
		first, _, _ := strings.Cut(p.Description, "\n")
		fmt.Fprintf(tw, "%s\t%s\n", name, first)
	}
	return tw.Flush()
}

// show prints a built-in profile's YAML source.
func (o *profilesOptions) show(name string) error {
	src, err := profiles.BuiltinSource(name)
	if err != nil {
		return usageError(err)
	}
	_, err = o.out.Write(src)
	return err
}

// validate checks each file: "FILE: ok" on stdout for a valid one, every
// problem on stderr, one per line, for the others; exit 2 if any is invalid.
func (o *profilesOptions) validate(files []string) error {
	bad := 0
	for _, file := range files {
		if _, err := profiles.LoadFile(file); err != nil {
			bad++
			fmt.Fprintln(o.err, err)
			continue
		}
		fmt.Fprintf(o.out, "%s: ok\n", file)
	}
	if bad > 0 {
		return usageError(fmt.Errorf("invalid profiles: %d of %d", bad, len(files)))
	}
	return nil
}
