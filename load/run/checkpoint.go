package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load"
	"github.com/stampede-load/stampede/reports"
)

// CheckpointName is the file a running test keeps its latest checkpoint in,
// next to result.json.
const CheckpointName = "checkpoint.json"

// DefaultCheckpointEvery is how often a running test writes its checkpoint
// unless told otherwise, so a process killed hard loses at most that much
// of what it measured.
const DefaultCheckpointEvery = 5 * time.Second

// checkpointer writes the engine's live result to checkpoint.json while a
// run goes on.
type checkpointer struct {
	path string
	done chan struct{}
	wg   sync.WaitGroup
	// err is the first write that failed (reported once, by stop).
	err error
}

// startCheckpoints writes a checkpoint of eng into dir every interval
// until stop, and calls save (if not nil: the credentials file's update)
// with each: a result marked partial, from
// Engine.Snapshot, with res's run ID, tool version, target and shard,
// written atomically (reports.WriteFile), so that the file on disk is
// always a whole result that stampede report reads. Secrets are redacted:
// the profile's (Profile.Redacted) and any JWT in an event's error.
func startCheckpoints(eng *load.Engine, res *reports.Result, dir string, every time.Duration, save func() error) *checkpointer {
	c := &checkpointer{path: filepath.Join(dir, CheckpointName), done: make(chan struct{})}
	head := reports.Result{Schema: reports.Schema, RunID: res.RunID, ToolVersion: res.ToolVersion,
		Target: res.Target, Shard: res.Shard}
	c.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-tick.C:
			}
			if save != nil {
				if err := save(); err != nil {
					c.fail(fmt.Errorf("checkpoint: %w", err))
				}
			}
			snap := head
			if err := eng.Snapshot(&snap); err != nil {
				c.fail(fmt.Errorf("checkpoint: %w", err))
				continue
			}
			if snap.StartedAt.IsZero() {
				continue // waiting for --start-at
			}
			snap.Partial = true
			snap.Profile = snap.Profile.Redacted()
			for i := range snap.Events {
				snap.Events[i].Error = reports.Redact(snap.Events[i].Error)
			}
			if err := reports.WriteFile(c.path, &snap); err != nil {
				c.fail(fmt.Errorf("checkpoint: %w", err))
			}
		}
	})
	return c
}

func (c *checkpointer) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// stop ends the checkpoints; none is written after it returns. It returns
// the first checkpoint that could not be written, if any.
func (c *checkpointer) stop() error {
	close(c.done)
	c.wg.Wait()
	return c.err
}

// remove deletes the checkpoint once the run's result.json is written.
func (c *checkpointer) remove() error {
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", c.path, err)
	}
	return nil
}
