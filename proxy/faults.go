package proxy

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// Fault actions the proxy takes on a request.
const (
	actForward = iota
	act401
	act429
	act503
	actBlackhole
	actReset
)

// Fault is one fault on the proxy's timeline: a profile event of a type
// the proxy applies (docs/proxy.md#faults), with its window.
type Fault struct {
	Event profiles.Event `json:"event"`
	// Start and End are offsets from the proxy's start; End 0 is open-ended.
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns,omitempty"`
	// Live is a fault added through the admin API.
	Live bool `json:"live,omitempty"`
}

// ProxyEventTypes are the event types the proxy applies.
var ProxyEventTypes = []string{profiles.EventKeyRotation, profiles.EventSpurious401, profiles.EventBrownout, profiles.EventOutage, profiles.EventSlowBody}

// checkEvent reports why e is not an event the proxy can apply.
func checkEvent(e profiles.Event) error {
	switch e.Type {
	case profiles.EventKeyRotation:
	case profiles.EventSpurious401:
		if !(e.Rate > 0 && e.Rate <= 1) {
			return fmt.Errorf("spurious_401: rate must be more than 0 and at most 1, got %g", e.Rate)
		}
	case profiles.EventBrownout:
		if e.Rate429 < 0 || e.Rate503 < 0 || e.Rate429+e.Rate503 > 1 || e.Latency < 0 || e.RetryAfter < 0 {
			return fmt.Errorf("brownout: rate_429 and rate_503 must be at least 0 and add up to at most 1, latency and retry_after not negative")
		}
	case profiles.EventOutage:
		if e.Mode != "" && e.Mode != profiles.OutageBlackhole && e.Mode != profiles.OutageFailFast {
			return fmt.Errorf("outage: mode must be %s or %s, got %q", profiles.OutageBlackhole, profiles.OutageFailFast, e.Mode)
		}
		if e.Fraction < 0 || e.Fraction > 1 {
			return fmt.Errorf("outage: fraction must be between 0 and 1, got %g", e.Fraction)
		}
	case profiles.EventSlowBody:
		switch {
		case e.BytesPerSecond == 0 && e.ChunkDelay == 0:
			return fmt.Errorf("slow_body: bytes_per_second (or chunk_delay) is required")
		case e.BytesPerSecond != 0 && e.ChunkDelay != 0:
			return fmt.Errorf("slow_body: chunk_delay: give bytes_per_second or chunk_delay, not both")
		case !(e.BytesPerSecond >= 0):
			return fmt.Errorf("slow_body: bytes_per_second must be more than 0, got %g", e.BytesPerSecond)
		case e.ChunkDelay < 0:
			return fmt.Errorf("slow_body: chunk_delay must be more than 0, got %s", e.ChunkDelay)
		case e.ChunkSize < 0:
			return fmt.Errorf("slow_body: chunk_size must be more than 0 bytes, got %d", e.ChunkSize)
		case e.Route != "" && e.Route != profiles.RouteToken && e.Route != profiles.RouteAPI && e.Route != profiles.RouteAll:
			return fmt.Errorf("slow_body: route must be %s, %s or %s, got %q", profiles.RouteToken, profiles.RouteAPI, profiles.RouteAll, e.Route)
		}
	default:
		return fmt.Errorf("type %q: the proxy applies %v", e.Type, ProxyEventTypes)
	}
	return nil
}

// faults is the proxy's timeline of faults. Safe for concurrent use.
type faults struct {
	mu   sync.Mutex
	list []Fault
	rng  *rand.Rand
}

func newFaults(seed uint64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// add places f on the timeline.
func (fs *faults) add(f Fault) {
	fs.mu.Lock()
	fs.list = append(fs.list, f)
	fs.mu.Unlock()
}

// clear ends every live fault at at, and every profile fault too when all.
func (fs *faults) clear(at time.Duration) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for i := range fs.list {
		f := &fs.list[i]
		if f.Start <= at && (f.End == 0 || f.End > at) {
			f.End = at // a key rotation cleared: old tokens pass again
			n++
		}
	}
	return n
}

// snapshot returns the faults on the timeline.
func (fs *faults) snapshot() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]Fault(nil), fs.list...)
}

// decision is what the faults do to one request.
type decision struct {
	act        int
	latency    time.Duration
	retryAfter time.Duration
	until      time.Duration // blackhole: held until this offset (0: open-ended)
	name       string
	// slow trickles the body of an answer forwarded (slow_body).
	slow slowBody
}

// selected reports whether session (or, without one, a draw) falls in
// the fraction of an outage.
func selected(session string, fraction float64, draw float64) bool {
	if fraction <= 0 || fraction >= 1 {
		return true
	}
	if session == "" {
		return draw < fraction
	}
	h := hashToken(session)
	return float64(binary.BigEndian.Uint64(h[:8])>>11)/(1<<53) < fraction
}

// decide says what the faults active at offset at do to a request of kind
// k of session, whose bearer token was issued at issuedAt() (zero
// unknown; asked only during a key rotation).
func (fs *faults) decide(at time.Duration, start time.Time, k Kind, session string, issuedAt func() time.Time) decision {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var d decision
	if len(fs.list) == 0 {
		return d
	}
	for _, f := range fs.list {
		if at < f.Start || (f.End != 0 && at >= f.End) {
			continue
		}
		e := f.Event
		switch e.Type {
		case profiles.EventOutage:
			if selected(session, e.Fraction, fs.rng.Float64()) {
				if e.Mode == profiles.OutageFailFast {
					return decision{act: actReset, name: "outage_fail_fast"}
				}
				return decision{act: actBlackhole, until: f.End, name: "outage_blackhole"}
			}
		case profiles.EventKeyRotation:
			if k != KindAPI || e.Overlap {
				continue
			}
			if iat := issuedAt(); !iat.IsZero() && iat.Before(start.Add(f.Start)) {
				return decision{act: act401, name: "key_rotation"}
			}
		case profiles.EventSpurious401:
			if k == KindAPI && fs.rng.Float64() < e.Rate {
				return decision{act: act401, name: "spurious_401"}
			}
		case profiles.EventSlowBody:
			if routeMatches(e.Route, k) {
				if s := slowBodyOf(e); !d.slow.on() || s.delay > d.slow.delay {
					d.slow = s // the slowest of those active
				}
			}
		case profiles.EventBrownout:
			if k != KindRefresh {
				continue
			}
			d.latency += e.Latency.D()
			switch x := fs.rng.Float64(); {
			case x < e.Rate429:
				d.act, d.retryAfter, d.name = act429, e.RetryAfter.D(), "brownout_429"
			case x < e.Rate429+e.Rate503:
				d.act, d.name = act503, "brownout_503"
			case d.name == "" && e.Latency > 0:
				d.name = "brownout_latency"
			}
		}
	}
	return d
}

// timeline places the profile's events the proxy applies on its
// timeline; skipped names the events of other types (a client-side
// event such as clock_skew), an event of its types it cannot apply is an
// error naming it.
func timeline(p profiles.Profile) (out []Fault, skipped []string, err error) {
	for i, e := range p.Events {
		if !slices.Contains(ProxyEventTypes, e.Type) {
			skipped = append(skipped, fmt.Sprintf("events[%d] (%s)", i, e.Type))
			continue
		}
		if err := checkEvent(e); err != nil {
			return nil, nil, fmt.Errorf("events[%d]: %w", i, err)
		}
		f := Fault{Event: e, Start: p.WallOffset(e.At)}
		if e.Type != profiles.EventKeyRotation && e.Duration > 0 {
			f.End = f.Start + p.Scale(e.Duration)
		}
		out = append(out, f)
	}
	return out, skipped, nil
}
