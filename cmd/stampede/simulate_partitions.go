package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stampede-load/stampede/load/sim"
	"github.com/stampede-load/stampede/profiles"
)

// partitionCount reads --partitions for p: 0 for auto (each simulation,
// each sweep point, takes sim.AutoPartitions of its own profile), else a
// count from 1 to the number of clients.
func (o *simulateOptions) partitionCount(p profiles.Profile) (int, error) {
	v := strings.TrimSpace(o.partitions)
	if v == "" || v == "auto" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usageErrorf("--partitions: want auto or a number of partitions, got %q", o.partitions)
	}
	if err := sim.CheckPartitions(p, n); err != nil {
		return 0, usageErrorf("--partitions: %w", err)
	}
	return n, nil
}

// partitionsNote is the start line's mention of the partitions, if more than one.
func partitionsNote(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" in %d partitions", n)
}
