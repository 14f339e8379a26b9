package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// recordingAdmin writes down every admin call with its offset from start.
type recordingAdmin struct {
	start time.Time
	mu    sync.Mutex
	calls []string
}

func (a *recordingAdmin) note(format string, args ...any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("%s ", time.Since(a.start))+fmt.Sprintf(format, args...))
	return nil
}

func (a *recordingAdmin) RotateKeys(_ context.Context, keep bool) error {
	return a.note("rotate keys keep=%t", keep)
}

func (a *recordingAdmin) Revoke(_ context.Context, sid string) error { return a.note("revoke %s", sid) }

func (a *recordingAdmin) SetFaults(_ context.Context, f adminapi.Faults) error {
	return a.note("faults %+v", f)
}

func (a *recordingAdmin) SetRotation(_ context.Context, r adminapi.Rotation) error {
	return a.note("rotation %+v", r)
}

func TestFleetActsOnTheBackendOnTime(t *testing.T) {
	p := profiles.Default() // 60 s wall at ×10
	sec := func(n int) profiles.Duration { return profiles.Duration(time.Duration(n) * time.Second) }
	p.Events = []profiles.Event{
		{Type: profiles.EventBrownout, At: profiles.At{Offset: sec(100)}, Duration: sec(200), Latency: profiles.Duration(50 * time.Millisecond), Rate429: 0.2, RetryAfter: sec(30)},
		{Type: profiles.EventSpurious401, At: profiles.At{Offset: sec(200)}, Duration: sec(200), Rate: 0.1},
		{Type: profiles.EventKeyRotation, At: profiles.At{Offset: sec(150)}, Overlap: true},
		{Type: profiles.EventClockSkew, At: profiles.At{Offset: sec(250)}, ServerOffset: sec(-60), Duration: sec(100)},
		{Type: profiles.EventClockSkew, At: profiles.At{Offset: sec(50)}, DeviceOffset: sec(60), Fraction: 1}, // the devices': not the backend's
		{Type: profiles.EventClientTokenRotation, At: profiles.At{Offset: sec(300)}, Grace: sec(20), Duration: sec(100)},
		{Type: profiles.EventClientTokenRotation, At: profiles.At{Offset: sec(500)}},                                                  // open at the end
		{Type: profiles.EventOutage, At: profiles.At{Offset: sec(10)}, Duration: sec(10), Fraction: 1, Mode: profiles.OutageFailFast}, // the engine's
		{Type: profiles.EventRevocationWave, At: profiles.At{Offset: sec(20)}, Fraction: 1},                                           // the engine's
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	var calls []string
	var applied []Applied
	synctest.Test(t, func(t *testing.T) {
		admin := &recordingAdmin{start: time.Now()}
		f := NewFleet(admin, Plan(p), p)
		ctx, cancel := context.WithTimeout(context.Background(), p.Duration.D())
		defer cancel()
		f.Run(ctx, admin.start)
		calls, applied = admin.calls, f.Applied()
	})
	want := []string{
		"10s faults {TokenLatency:50ms Rate429:0.2 RetryAfter:3s Rate503:0 Spurious401:0 ClockOffset:0s}",
		"15s rotate keys keep=true",
		"20s faults {TokenLatency:50ms Rate429:0.2 RetryAfter:3s Rate503:0 Spurious401:0.1 ClockOffset:0s}",
		"25s faults {TokenLatency:50ms Rate429:0.2 RetryAfter:3s Rate503:0 Spurious401:0.1 ClockOffset:-6s}",
		"30s faults {TokenLatency:0s Rate429:0 RetryAfter:0s Rate503:0 Spurious401:0.1 ClockOffset:-6s}",
		"30s rotation {Enabled:true Grace:2s}",
		"35s faults {TokenLatency:0s Rate429:0 RetryAfter:0s Rate503:0 Spurious401:0.1 ClockOffset:0s}",
		"40s faults {TokenLatency:0s Rate429:0 RetryAfter:0s Rate503:0 Spurious401:0 ClockOffset:0s}",
		"40s rotation {Enabled:false Grace:0s}",
		"50s rotation {Enabled:true Grace:0s}",
		// The run ends with the rotation window (and the key rotation) open: cleared.
		"1m0s rotation {Enabled:false Grace:0s}",
		"1m0s faults {TokenLatency:0s Rate429:0 RetryAfter:0s Rate503:0 Spurious401:0 ClockOffset:0s}",
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("admin calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	var windows []int
	for _, a := range applied {
		windows = append(windows, a.Window)
		if a.Err != nil {
			t.Errorf("window %d: %v", a.Window, a.Err)
		}
	}
	if fmt.Sprint(windows) != "[0 2 1 3 5 6]" {
		t.Errorf("applied windows %v, want each backend event once, at its start", windows)
	}
}

func TestFleetWithoutAdminRecordsTheError(t *testing.T) {
	p := profiles.Default()
	p.Events = []profiles.Event{{Type: profiles.EventKeyRotation, At: profiles.At{Share: 0.5}}}
	synctest.Test(t, func(t *testing.T) {
		f := NewFleet(nil, Plan(p), p)
		ctx, cancel := context.WithTimeout(context.Background(), p.Duration.D())
		defer cancel()
		f.Run(ctx, time.Now())
		if a := f.Applied(); len(a) != 1 || a[0].Err != ErrNoAdmin {
			t.Errorf("applied %+v, want ErrNoAdmin once", a)
		}
	})
}
