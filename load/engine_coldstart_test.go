package load

import (
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

// coldCounter is a Conns that tells cold starts, which forget the
// client's TLS session, from the other drops.
type coldCounter struct {
	dropCounter
	mu   sync.Mutex
	cold map[int]int
}

func (c *coldCounter) ColdStart(client int) {
	c.mu.Lock()
	c.cold[client]++
	c.mu.Unlock()
}

// TestEngineColdStartsForgetTLSSessions: an app killed in the background
// comes back with a cold start, which the pool is told as such (its TLS
// session goes); an app merely suspended only drops its connections.
func TestEngineColdStartsForgetTLSSessions(t *testing.T) {
	for _, cold := range []float64{0, 1} {
		p := testProfile(10, 6*time.Second) // ×60: 6 wall seconds are 6 simulated minutes
		p.Connections = profiles.ConnectionsPerClient
		p.App.Lifecycle = profiles.Lifecycle{Model: profiles.LifecycleBackgroundForeground,
			Foreground: profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(time.Minute)},
			Background: profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(time.Minute)}, ColdStart: cold}
		c := &coldCounter{dropCounter: dropCounter{drops: map[int]int{}}, cold: map[int]int{}}
		runConns(t, p, c)
		for i := range p.Clients {
			switch {
			case cold == 1 && (c.cold[i] == 0 || c.drops[i] != 0):
				t.Errorf("cold starts: client %d: %d cold starts, %d drops; want cold starts only", i, c.cold[i], c.drops[i])
			case cold == 0 && (c.cold[i] != 0 || c.drops[i] == 0):
				t.Errorf("suspensions: client %d: %d cold starts, %d drops; want drops only", i, c.cold[i], c.drops[i])
			}
		}
	}
}
