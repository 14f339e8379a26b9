package main

import (
	"github.com/spf13/cobra"
	"github.com/stampede-load/stampede/profiles"
)

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "stampede",
		Short: "Load and chaos testing for session token refresh paths",
		Long: "stampede simulates fleets of mobile clients that hold short-lived session JWTs,\n" +
			"refresh them and call a protected API, and reports latency histograms and what\n" +
			"the fleet did in return.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %s for %q; see 'stampede --help'", profiles.Quote(args[0]), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetIn(s.in)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newRunCmd(s), newServeCmd(s), newProfilesCmd(s), newVersionCmd(s))
	root.AddCommand(newReportCmd(s), newCompareCmd(s))
	root.AddCommand(newMergeCmd(s))
	root.AddCommand(newCapacityCmd(s))
	root.AddCommand(newCredsCmd(s))
	root.AddCommand(newProxyCmd(s))
	root.AddCommand(newSimulateCmd(s))
	for _, c := range root.Commands() {
		if v := c.Args; v != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := v(cmd, args); err != nil {
					return usageError(err)
				}
				return nil
			}
		}
	}
	return root
}
