package driver

import (
	"math"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/record"
	"github.com/stampede-load/stampede/profiles"
)

// Presence is when a client of a staged fleet is in it, as offsets from
// the run's start: it joins at Join and leaves at Leave (-1: it stays to
// the end).
type Presence struct {
	Join, Leave time.Duration
}

// StagePlan places every client of p's stages (docs/profiles.md#stages):
// a growing stage adds fresh clients in seeded slots over its ramp, as a
// ramp places a fleet (the first stage from 0 places them exactly as
// RampOffset does); a shrinking one removes the clients that joined last,
// in seeded slots over its ramp. It has p.StagedClients() entries; nil
// without stages.
func StagePlan(p profiles.Profile) []Presence {
	if len(p.Stages) == 0 {
		return nil
	}
	plan := make([]Presence, 0, p.StagedClients())
	var in []int // clients in the fleet, in the order they joined
	var at time.Duration
	for _, s := range p.Stages {
		ramp := s.Ramp.D()
		switch n := s.Clients - len(in); {
		case n > 0:
			for k := range n {
				idx := len(plan)
				plan = append(plan, Presence{Join: at + stageOffset(p.Seed, idx, k, n, ramp), Leave: -1})
				in = append(in, idx)
			}
		case n < 0:
			n = -n
			for k := range n {
				idx := in[len(in)-1-k]
				plan[idx].Leave = at + stageOffset(p.Seed^0x5bd1e995, idx, k, n, ramp)
			}
			in = in[:len(in)-n]
		}
		at += ramp + s.Hold.D()
	}
	return plan
}

// stageOffset is the k-th of n slots over ramp, placed at a point of it
// drawn from the seed and the client's fleet index idx: RampOffset's
// slot when k == idx.
func stageOffset(seed uint64, idx, k, n int, ramp time.Duration) time.Duration {
	if ramp <= 0 || n <= 0 {
		return 0
	}
	u := float64(splitmix(seed^uint64(idx)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	return time.Duration(math.Floor((float64(k) + u) / float64(n) * float64(ramp)))
}

// leave takes c out of a shrinking fleet at now: a user who signs out
// (profiles.StageLeaveSignOut) has the session ended through the target's
// end endpoint first; either way the app stops and its connections close.
// Answers to its requests in flight are still fed to it.
func (c *client) leave(now time.Time) {
	c.leaveAt = 0
	c.d.record(record.Fact{Kind: record.FactLeft, Client: c.idx, At: now})
	if c.d.cfg.Profile.StageLeave == profiles.StageLeaveSignOut {
		if sid := c.m.SessionID(); sid != "" && c.m.Phase() == model.PhaseSignedIn {
			c.output(Output{Kind: OutEnd, Window: -1, SessionID: sid, ClientToken: c.m.ClientToken()})
		}
	}
	c.stop(now)
	c.armed = [model.NumTimers]instant{}
	c.expireAt = 0
	c.output(Output{Kind: OutDrop})
}
