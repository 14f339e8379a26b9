package chaos

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
)

func TestSampleDistributions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mean := func(d profiles.Dist, scale float64) (m, median float64) {
		const n = 20000
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(Sample(d, scale, rng))
			m += xs[i] / n
		}
		below := 0
		for _, x := range xs {
			if x < float64(d.Value)/max(scale, 1) {
				below++
			}
		}
		return m, float64(below) / n
	}
	if got := Sample(profiles.Dist{Dist: profiles.DistFixed, Value: profiles.Duration(time.Minute)}, 10, rng); got != 6*time.Second {
		t.Errorf("fixed 1m at ×10 = %s, want 6s", got)
	}
	if m, _ := mean(profiles.Dist{Dist: profiles.DistExponential, Value: profiles.Duration(time.Minute)}, 1); math.Abs(m/float64(time.Minute)-1) > 0.03 {
		t.Errorf("exponential mean = %s, want ≈ 1m", time.Duration(m))
	}
	// A lognormal's Value is its median: half the draws fall below it.
	if _, below := mean(profiles.Dist{Dist: profiles.DistLognormal, Value: profiles.Duration(time.Minute), Sigma: 1}, 1); math.Abs(below-0.5) > 0.02 {
		t.Errorf("lognormal: %.3f of draws below the median, want ≈ 0.5", below)
	}
}

func TestLifecycleIsSeededPerClient(t *testing.T) {
	p := profiles.Default()
	if NewLifecycle(p, 0) != nil {
		t.Fatal("an always-foreground profile has a lifecycle")
	}
	p.App.Lifecycle = profiles.Lifecycle{Model: profiles.LifecycleBackgroundForeground,
		Foreground: profiles.Dist{Dist: profiles.DistExponential, Value: profiles.Duration(time.Minute)},
		Background: profiles.Dist{Dist: profiles.DistExponential, Value: profiles.Duration(time.Minute)},
		ColdStart:  0.5}
	draw := func(idx int) []time.Duration {
		l := NewLifecycle(p, idx)
		var out []time.Duration
		colds := 0
		for range 200 {
			bg, cold := l.Background()
			out = append(out, l.Foreground(), bg)
			if cold {
				colds++
			}
		}
		if colds < 70 || colds > 130 {
			t.Errorf("client %d: %d cold starts in 200 gaps at 0.5", idx, colds)
		}
		return out
	}
	a, b, c := draw(3), draw(3), draw(4)
	same := func(x, y []time.Duration) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed and client gave different lifecycles")
	}
	if same(a, c) {
		t.Error("two clients share one lifecycle")
	}
}

func TestLinkPlan(t *testing.T) {
	p := profiles.Default()
	if NewLink(p, 0) != nil {
		t.Fatal("an unimpaired network has a link")
	}
	var nilLink *Link
	if d, lost := nilLink.Plan(1, 1); d != 0 || lost {
		t.Fatal("a nil link delays or loses")
	}
	p.Network = profiles.Network{Latency: profiles.Duration(100 * time.Millisecond), Jitter: profiles.Duration(20 * time.Millisecond),
		Loss: 0.1, DownKbps: 800, UpKbps: 400}
	l := NewLink(p, 1)
	lost := 0
	for range 10000 {
		d, gone := l.Plan(1000, 2000)
		if gone {
			lost++
			continue
		}
		// 100 ms ± 20 ms, plus 1000 B at 50 kB/s (20 ms) and 2000 B at 100 kB/s (20 ms).
		if d < 120*time.Millisecond || d > 160*time.Millisecond {
			t.Fatalf("delay %s outside 120..160 ms", d)
		}
	}
	if lost < 900 || lost > 1100 {
		t.Errorf("%d of 10000 lost at 10%% loss", lost)
	}
}

func outageProfile() profiles.Profile {
	p := profiles.Default()
	p.Events = []profiles.Event{
		{Type: profiles.EventOutage, At: profiles.At{Share: 0.5}, Duration: profiles.Duration(100 * time.Second),
			Fraction: 0.3, Mode: profiles.OutageBlackhole, RestoreSpread: profiles.Duration(20 * time.Second)},
		{Type: profiles.EventKeyRotation, At: profiles.At{Offset: profiles.Duration(2 * time.Minute)}},
		{Type: profiles.EventClockSkew, At: profiles.At{Share: 0.1}, Fraction: 1, DeviceOffset: profiles.Duration(-time.Minute)},
	}
	return p
}

func TestPlanPlacesEventsInWallTime(t *testing.T) {
	p := outageProfile() // 60 s wall at ×10
	ws := Plan(p)
	want := []struct{ start, end time.Duration }{
		{30 * time.Second, 40 * time.Second}, // 50%, 100 s simulated = 10 s wall
		{12 * time.Second, 12 * time.Second}, // 2m simulated = 12 s wall, instant
		{6 * time.Second, 60 * time.Second},  // until the end
	}
	for i, w := range want {
		if ws[i].Start != w.start || ws[i].End != w.end || ws[i].Index != i {
			t.Errorf("window %d = %+v, want %s..%s", i, ws[i], w.start, w.end)
		}
	}
}

func TestClientChanges(t *testing.T) {
	p := outageProfile()
	ws := Plan(p)
	hit := 0
	for idx := range 2000 {
		ch := ClientChanges(p, ws, idx)
		var off, on *ClientChange
		for i := range ch {
			if i > 0 && ch[i].At < ch[i-1].At {
				t.Fatalf("client %d: changes out of order: %+v", idx, ch)
			}
			switch ch[i].Kind {
			case ChangeOffline:
				off = &ch[i]
			case ChangeOnline:
				on = &ch[i]
			case ChangeSkew:
				if ch[i].Skew != -6*time.Second || ch[i].At != 6*time.Second {
					t.Fatalf("client %d: skew %+v, want -6s at 6s", idx, ch[i])
				}
			}
		}
		if off == nil {
			continue
		}
		hit++
		if on == nil || off.At != 30*time.Second || off.Mode != profiles.OutageBlackhole ||
			on.At < 40*time.Second || on.At > 42*time.Second {
			t.Fatalf("client %d: outage %+v restore %+v, want offline at 30s, back within 40..42s", idx, off, on)
		}
	}
	if hit < 520 || hit > 680 {
		t.Errorf("%d of 2000 clients in a 30%% outage", hit)
	}
	if a, b := ClientChanges(p, ws, 7), ClientChanges(p, ws, 7); len(a) != len(b) {
		t.Error("changes not deterministic")
	}
}
