package chaos

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/stampede-load/stampede/chaos/adminapi"
	"github.com/stampede-load/stampede/profiles"
)

// Admin is the target's admin API: what fleet events do to the backend.
type Admin interface {
	RotateKeys(ctx context.Context, keepPrevious bool) error
	// Revoke ends one session server-side.
	Revoke(ctx context.Context, sessionID string) error
	SetFaults(ctx context.Context, f adminapi.Faults) error
	SetRotation(ctx context.Context, r adminapi.Rotation) error
}

// TaskAdmin is an Admin that also moves sessions into pending with a
// session task and completes the task (the embedded backend's admin API;
// AdminClient is one). session_task events need it.
type TaskAdmin interface {
	SetPending(ctx context.Context, sessionID, task string) error
	CompleteTask(ctx context.Context, sessionID string) error
}

// Applied is what happened when an event acted on the backend.
type Applied struct {
	Window int
	// At is the wall-clock time it took effect.
	At time.Time
	// Affected is how many sessions it revoked (revocation_wave).
	Affected int
	Err      error
}

// Fleet applies the backend side of a run's events on time: key rotations,
// brownouts and spurious 401s, server clock skew and client-token
// rotation. Outages, revocation waves and device clocks select clients by
// index and are the engine's (see ClientChanges).
type Fleet struct {
	admin   Admin
	windows []Window
	p       profiles.Profile

	mu      sync.Mutex
	applied []Applied
}

// ErrNoAdmin is the error of backend events against a target without an admin API.
var ErrNoAdmin = errors.New("the target has no admin API")

// NewFleet returns the backend side of p's events, placed in ws. admin may
// be nil: each backend event then fails with ErrNoAdmin.
func NewFleet(admin Admin, ws []Window, p profiles.Profile) *Fleet {
	return &Fleet{admin: admin, windows: ws, p: p}
}

type step struct {
	at    time.Duration
	w     int
	start bool
}

// backendEvent reports whether an event acts on the backend.
func backendEvent(e profiles.Event) bool {
	k := Kind(e.Type)
	return k != nil && k.OnBackend != nil && k.OnBackend(e)
}

// Run applies every backend event at start + its offset until ctx ends.
// Windows still open when ctx ends are closed (faults cleared) before Run
// returns, so a shared target is left as it was found.
func (f *Fleet) Run(ctx context.Context, start time.Time) {
	var steps []step
	for _, w := range f.windows {
		if !backendEvent(w.Event) {
			continue
		}
		steps = append(steps, step{at: w.Start, w: w.Index, start: true})
		if w.End > w.Start {
			steps = append(steps, step{at: w.End, w: w.Index})
		}
	}
	active := map[int]bool{}
	if play(ctx, start, steps, func(s step) { f.apply(ctx, s, active) }) {
		<-ctx.Done()
	}
	f.closeAll(active)
}

// play carries out steps in time order, each at start + its offset, until
// ctx ends; it reports whether every step was played.
func play(ctx context.Context, start time.Time, steps []step, apply func(step)) bool {
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, s := range steps {
		timer.Reset(time.Until(start.Add(s.at)))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return false
		}
		apply(s)
	}
	return true
}

func (f *Fleet) closeAll(active map[int]bool) {
	if len(active) == 0 || f.admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for w := range active {
		delete(active, w)
		e := f.windows[w].Event
		if k := Kind(e.Type); k.Stop != nil {
			_ = k.Stop(ctx, f.admin, f.p, e)
		}
	}
	_ = f.admin.SetFaults(ctx, adminapi.Faults{})
}

// apply opens or closes one window: a kind with faults has the faults of
// every open window merged and set, another starts or stops its effect.
func (f *Fleet) apply(ctx context.Context, s step, active map[int]bool) {
	e := f.windows[s.w].Event
	k := Kind(e.Type)
	a := Applied{Window: s.w, At: time.Now()}
	if s.start {
		active[s.w] = true
	} else {
		delete(active, s.w)
	}
	switch {
	case f.admin == nil:
		a.Err = ErrNoAdmin
	case k.Faults != nil:
		a.Err = f.admin.SetFaults(ctx, f.faults(active))
	case s.start && k.Start != nil:
		a.Err = k.Start(ctx, f.admin, f.p, e)
	case !s.start && k.Stop != nil:
		a.Err = k.Stop(ctx, f.admin, f.p, e)
	}
	if s.start || a.Err != nil {
		f.mu.Lock()
		f.applied = append(f.applied, a)
		f.mu.Unlock()
	}
}

// faults merges the faults of the open windows (brownouts, spurious 401s,
// server clock skew).
func (f *Fleet) faults(active map[int]bool) adminapi.Faults {
	var ft adminapi.Faults
	for w := range active {
		e := f.windows[w].Event
		if k := Kind(e.Type); k.Faults != nil {
			k.Faults(&ft, f.p, e)
		}
	}
	return ft
}

// Applied returns what the events did so far, in the order they happened.
func (f *Fleet) Applied() []Applied {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Applied(nil), f.applied...)
}
