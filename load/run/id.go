package run

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// ID is a run's ID when none is given: derived from startAt, the profile's
// name and seed and the shard count when startAt is set, so every shard of
// a run gets the same one without being told ("20261128-093000-" and six
// hex digits of a hash of them); random otherwise (the current time and
// six random hex digits).
func ID(p profiles.Profile, shards int, startAt time.Time) string {
	if !startAt.IsZero() {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d", p.Name, p.Seed, shards, startAt.UnixNano())
		return startAt.UTC().Format("20060102-150405") + fmt.Sprintf("-%06x", h.Sum64()&0xffffff)
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// DefaultOutDir is a run's results directory when none is given:
// stampede-results/<run-id>, and under it the shard's index when the run
// is sharded.
func DefaultOutDir(runID string, shard, shards int) string {
	if shards > 1 {
		return filepath.Join("stampede-results", runID, strconv.Itoa(shard))
	}
	return filepath.Join("stampede-results", runID)
}
