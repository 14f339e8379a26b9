package chaos

import (
	"slices"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// toxic adds a Toxiproxy toxic to a proxy between stampede and the target
// for its duration, or until the end of the run: real TCP-level faults.
// Toxics, not the fleet, carries it out against the toxiproxy-server.
var toxic = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventToxic,
		Fields: []string{"proxy", "toxic", "duration"},
		Check:  checkToxicEvent,
	},
	End: forDurationOrRun,
}

func checkToxicEvent(e profiles.Event, c profiles.EventChecker) {
	c.NonNegative("duration", e.Duration)
	if strings.TrimSpace(e.Proxy) == "" {
		c.Bad("proxy", "is required: the name of the Toxiproxy proxy between stampede and the target")
	}
	checkToxic(c, "toxic", e.Toxic)
}

// toxicAttributes lists the attributes each toxic type takes.
var toxicAttributes = map[string][]string{
	profiles.ToxicLatency:   {"latency", "jitter"},
	profiles.ToxicBandwidth: {"rate"},
	profiles.ToxicTimeout:   {"timeout"},
	profiles.ToxicResetPeer: {"timeout"},
	profiles.ToxicSlowClose: {"delay"},
}

// toxicTypes lists the toxic types a toxic event may add.
var toxicTypes = []string{profiles.ToxicLatency, profiles.ToxicBandwidth, profiles.ToxicTimeout,
	profiles.ToxicResetPeer, profiles.ToxicSlowClose}

// checkToxic checks the toxic of a toxic event, the event's field name.
func checkToxic(c profiles.EventChecker, name string, t profiles.Toxic) {
	c.OneOf(name+".type", t.Type, toxicTypes)
	if t.Stream != "" {
		c.OneOf(name+".stream", t.Stream, []string{profiles.StreamDownstream, profiles.StreamUpstream})
	}
	if !(t.Toxicity >= 0 && t.Toxicity <= 1) {
		c.Bad(name+".toxicity", "must be from 0 to 1 (the share of connections it acts on; 0 is 1), got %g", t.Toxicity)
	}
	a := t.Attributes
	ap := name + ".attributes."
	given := map[string]bool{"latency": a.Latency != 0, "jitter": a.Jitter != 0, "rate": a.Rate != 0, "timeout": a.Timeout != 0, "delay": a.Delay != 0}
	if allowed, known := toxicAttributes[t.Type]; known {
		for _, attr := range []string{"latency", "jitter", "rate", "timeout", "delay"} {
			if given[attr] && !slices.Contains(allowed, attr) {
				c.Bad(ap+attr, "does not apply to a %s toxic (its attributes: %s)", t.Type, strings.Join(allowed, ", "))
			}
		}
	}
	c.NonNegative(ap+"latency", a.Latency)
	c.NonNegative(ap+"jitter", a.Jitter)
	c.NonNegative(ap+"timeout", a.Timeout)
	c.NonNegative(ap+"delay", a.Delay)
	switch t.Type {
	case profiles.ToxicLatency:
		if a.Latency == 0 && a.Jitter == 0 {
			c.Bad(ap+"latency", "is required: the delay a latency toxic adds, such as \"300ms\" (wall-clock, never scaled)")
		}
	case profiles.ToxicBandwidth:
		if a.Rate <= 0 {
			c.Bad(ap+"rate", "must be at least 1: the bandwidth in KB/s, got %d", a.Rate)
		}
	case profiles.ToxicSlowClose:
		if a.Delay == 0 {
			c.Bad(ap+"delay", "is required: how long a slow_close toxic delays closing, such as \"1s\"")
		}
	}
}
