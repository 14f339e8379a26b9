package chaos

import (
	"github.com/stampede-load/stampede/profiles"
)

// slowBody trickles the answers' bodies of a route class for its
// duration. stampede proxy applies it (docs/proxy.md#faults); a run's own
// target has no body to slow, so a run only marks its window on the
// timeline (a Toxiproxy bandwidth toxic slows a run's answers).
var slowBody = &EventKind{
	EventType: profiles.EventType{
		Name:   profiles.EventSlowBody,
		Fields: []string{"duration", "bytes_per_second", "chunk_delay", "chunk_size", "route"},
		Check:  checkSlowBody,
	},
	End: forDuration,
}

func checkSlowBody(e profiles.Event, c profiles.EventChecker) {
	c.Lasting("duration", e.Duration)
	switch {
	case e.BytesPerSecond == 0 && e.ChunkDelay == 0:
		c.Bad("bytes_per_second", "is required (or chunk_delay): how fast the bodies trickle, such as 2048")
	case e.BytesPerSecond != 0 && e.ChunkDelay != 0:
		c.BadRel("chunk_delay", []string{"bytes_per_second"}, "give bytes_per_second or chunk_delay, not both")
	case e.BytesPerSecond < 0 || e.BytesPerSecond != e.BytesPerSecond:
		c.Bad("bytes_per_second", "must be more than 0, got %g", e.BytesPerSecond)
	case e.ChunkDelay < 0:
		c.Bad("chunk_delay", "must be more than 0, got %s", e.ChunkDelay)
	}
	if e.ChunkSize < 0 {
		c.Bad("chunk_size", "must be more than 0 bytes (0: %d), got %d", profiles.DefaultChunkSize, e.ChunkSize)
	}
	if e.Route != "" {
		c.OneOf("route", e.Route, []string{profiles.RouteToken, profiles.RouteAPI, profiles.RouteAll})
	}
}
