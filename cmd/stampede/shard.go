package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/load/run"
	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/reports"
)

// shardFlags are stampede run's flags for a part of a sharded run: --shard
// i/n, --start-at and --run-id, as given and as parsed.
type shardFlags struct {
	shard   string
	startAt string
	runID   string

	// shardIndex and shardCount: --shard parsed (0 and 1 without it);
	// startTime: --start-at parsed (zero without it).
	shardIndex, shardCount int
	startTime              time.Time
}

// runIDPattern is what --run-id accepts: it names a directory.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// parse checks the flags at now, returning one error per problem, each
// naming its flag. A sharded run (n > 1) needs --start-at, so that the
// shards share one clock.
func (s *shardFlags) parse(now time.Time) []error {
	var errs []error
	s.shardIndex, s.shardCount = 0, 1
	if s.shard != "" {
		i, n, err := parseShard(s.shard)
		if err != nil {
			errs = append(errs, fmt.Errorf("--shard: %w", err))
		} else {
			s.shardIndex, s.shardCount = i, n
		}
	}
	if s.startAt != "" {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s.startAt))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("--start-at: want an RFC 3339 instant such as 2026-11-28T09:30:00Z, got %s", profiles.Quote(s.startAt)))
		case !t.After(now):
			errs = append(errs, fmt.Errorf("--start-at: %s has passed (%s ago): every shard must be running before it",
				t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Millisecond)))
		default:
			s.startTime = t
		}
	}
	if s.shardCount > 1 && s.startAt == "" {
		errs = append(errs, fmt.Errorf("--shard: a sharded run needs --start-at, the instant every shard begins, so that their clocks and fleet events coincide"))
	}
	if s.runID != "" && !runIDPattern.MatchString(s.runID) {
		errs = append(errs, fmt.Errorf("--run-id: want up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got %s", profiles.Quote(s.runID)))
	}
	return errs
}

// sharedTarget refuses a sharded run of p against the embedded backend:
// the shards must share one target, and the embedded backend lives in
// each process.
func (s *shardFlags) sharedTarget(p profiles.Profile) []error {
	if s.shardCount > 1 && p.TargetKind() == profiles.TargetBuiltin {
		return []error{fmt.Errorf("--shard: the shards of a run must share one target: give --target (or the profile's target.url); the embedded backend lives in each process")}
	}
	return nil
}

// parseShard reads "i/n" with 0 ≤ i < n.
func parseShard(v string) (index, count int, err error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(v), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("want i/n, shard i of n counting from 0, such as 0/4, got %s", profiles.Quote(v))
	case n < 1 || n > reports.MaxShards:
		return 0, 0, fmt.Errorf("the shard count must be at least 1 and at most %d, got %s", reports.MaxShards, profiles.Quote(v))
	case i < 0 || i >= n:
		return 0, 0, fmt.Errorf("the shard index must be from 0 to %d (the count less one), got %s", n-1, profiles.Quote(v))
	}
	return i, n, nil
}

// id is the run's ID: --run-id if given, else run.ID's: derived from
// --start-at, the profile's name and seed and the shard count when
// --start-at is given, so every shard of a run gets the same one without
// being told; random otherwise.
func (s *shardFlags) id(p profiles.Profile) string {
	if s.runID != "" {
		return s.runID
	}
	return run.ID(p, s.shardCount, s.startTime)
}
