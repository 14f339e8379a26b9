package chaos

import (
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Link is the mobile network between one client and the target: latency
// with jitter, loss and bandwidth, applied to each request before it is
// sent. Latencies are real time: they are never scaled.
type Link struct {
	latency, jitter time.Duration
	loss            float64
	downBps, upBps  float64 // bytes per second; 0 is unlimited
	rng             *rand.Rand
}

// NewLink returns client idx's link under the profile's network, or nil for
// an unimpaired one.
func NewLink(p profiles.Profile, idx int) *Link {
	n := p.Network
	if n.Latency == 0 && n.Jitter == 0 && n.Loss == 0 && n.DownKbps == 0 && n.UpKbps == 0 {
		return nil
	}
	return &Link{
		latency: n.Latency.D(), jitter: n.Jitter.D(), loss: n.Loss,
		downBps: n.DownKbps * 1000 / 8, upBps: n.UpKbps * 1000 / 8,
		rng: rand.New(rand.NewPCG(p.Seed^0x6e6574776f726b21, uint64(idx))),
	}
}

// Typical sizes of a refresh exchange on the wire, for bandwidth delays.
const (
	RequestBytes  = 600
	ResponseBytes = 1200
)

// Plan decides one request's fate: the delay before its answer may arrive
// (round-trip latency ± jitter plus transfer time), or lost, in which case
// it never arrives and the client waits out its timeout.
func (l *Link) Plan(reqBytes, respBytes int) (delay time.Duration, lost bool) {
	if l == nil {
		return 0, false
	}
	if l.loss > 0 && l.rng.Float64() < l.loss {
		return 0, true
	}
	d := float64(l.latency)
	if l.jitter > 0 {
		d += (2*l.rng.Float64() - 1) * float64(l.jitter)
	}
	if l.upBps > 0 {
		d += float64(reqBytes) / l.upBps * float64(time.Second)
	}
	if l.downBps > 0 {
		d += float64(respBytes) / l.downBps * float64(time.Second)
	}
	return max(time.Duration(d), 0), false
}
