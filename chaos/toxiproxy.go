package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"

	"github.com/stampede-load/stampede/profiles"
)

// DefaultToxiproxy is the toxiproxy-server API address when the profile
// gives none (Toxiproxy's own default).
const DefaultToxiproxy = "http://127.0.0.1:8474"

// ToxicAPI is what toxic events need of a toxiproxy-server: add a toxic to
// a proxy and remove it again.
type ToxicAPI interface {
	AddToxic(ctx context.Context, proxy string, t ToxicSpec) error
	RemoveToxic(ctx context.Context, proxy, name string) error
	// CheckProxy reports whether the proxy exists.
	CheckProxy(ctx context.Context, proxy string) error
}

// ToxicSpec is one toxic as Toxiproxy takes it: attributes in its units
// (milliseconds, KB/s).
type ToxicSpec struct {
	Name       string
	Type       string
	Stream     string
	Toxicity   float32
	Attributes map[string]any
}

// Spec converts a profile toxic into Toxiproxy's terms, under name.
func Spec(name string, t profiles.Toxic) ToxicSpec {
	ms := func(d profiles.Duration) int64 { return d.D().Milliseconds() }
	a := t.Attributes
	attrs := map[string]any{}
	switch t.Type {
	case profiles.ToxicLatency:
		attrs["latency"], attrs["jitter"] = ms(a.Latency), ms(a.Jitter)
	case profiles.ToxicBandwidth:
		attrs["rate"] = a.Rate
	case profiles.ToxicTimeout, profiles.ToxicResetPeer:
		attrs["timeout"] = ms(a.Timeout)
	case profiles.ToxicSlowClose:
		attrs["delay"] = ms(a.Delay)
	}
	stream := t.Stream
	if stream == "" {
		stream = profiles.StreamDownstream
	}
	toxicity := float32(t.Toxicity)
	if toxicity == 0 {
		toxicity = 1
	}
	return ToxicSpec{Name: name, Type: t.Type, Stream: stream, Toxicity: toxicity, Attributes: attrs}
}

// Toxiproxy speaks a toxiproxy-server's HTTP API through its Go client
// (github.com/Shopify/toxiproxy/v2/client).
type Toxiproxy struct {
	client *toxiproxy.Client
}

// NewToxiproxy returns the API of the toxiproxy-server at addr, such as
// "http://127.0.0.1:8474" ("" is DefaultToxiproxy).
func NewToxiproxy(addr string) *Toxiproxy {
	if addr == "" {
		addr = DefaultToxiproxy
	}
	c := toxiproxy.NewClient(addr)
	c.UserAgent = "stampede"
	return &Toxiproxy{client: c}
}

// call runs f, a call of the client (which takes no context), but returns
// when ctx ends; f then finishes on its own (the client's timeout is 30 s).
func call(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CheckProxy reports whether the proxy exists.
func (t *Toxiproxy) CheckProxy(ctx context.Context, proxy string) error {
	return call(ctx, func() error {
		if _, err := t.client.Proxy(proxy); err != nil {
			return fmt.Errorf("toxiproxy proxy %q: %w", proxy, err)
		}
		return nil
	})
}

// AddToxic adds a toxic to proxy. A toxic of the same name left over (by
// a run that was killed) is replaced.
func (t *Toxiproxy) AddToxic(ctx context.Context, proxy string, s ToxicSpec) error {
	return call(ctx, func() error {
		p, err := t.client.Proxy(proxy)
		if err != nil {
			return fmt.Errorf("toxiproxy proxy %q: %w", proxy, err)
		}
		_, err = p.AddToxic(s.Name, s.Type, s.Stream, s.Toxicity, toxiproxy.Attributes(s.Attributes))
		var ae *toxiproxy.ApiError
		if errors.As(err, &ae) && ae.Status == 409 {
			if err = p.RemoveToxic(s.Name); err == nil {
				_, err = p.AddToxic(s.Name, s.Type, s.Stream, s.Toxicity, toxiproxy.Attributes(s.Attributes))
			}
		}
		if err != nil {
			return fmt.Errorf("toxiproxy: add %s toxic to %q: %w", s.Type, proxy, err)
		}
		return nil
	})
}

// RemoveToxic removes the toxic name from proxy.
func (t *Toxiproxy) RemoveToxic(ctx context.Context, proxy, name string) error {
	return call(ctx, func() error {
		p := t.client.NewProxy()
		p.Name = proxy
		if err := p.RemoveToxic(name); err != nil {
			return fmt.Errorf("toxiproxy: remove toxic %s from %q: %w", name, proxy, err)
		}
		return nil
	})
}

// ToxicWindows returns the toxic events of ws (from Plan): each lasts its
// duration (simulated, scaled), or until the end of the run when that is 0.
func ToxicWindows(ws []Window) []Window {
	var out []Window
	for _, w := range ws {
		if w.Event.Type == profiles.EventToxic {
			out = append(out, w)
		}
	}
	return out
}

// Toxics applies a run's toxic events to a toxiproxy-server on the run's
// timeline: each toxic is added at its window's start and removed at its
// end, so that real TCP-level faults (latency, bandwidth, stalls, resets)
// stand between the clients and the target.
type Toxics struct {
	api     ToxicAPI
	windows []Window

	mu      sync.Mutex
	applied []ToxicApplied
}

// ToxicApplied is one change a toxic event made to Toxiproxy.
type ToxicApplied struct {
	Window int
	// At is the wall-clock time it took effect.
	At time.Time
	// Removed: the toxic was removed (else added).
	Removed bool
	Err     error
}

// NewToxics returns the runner of p's toxic events among ws (from Plan).
func NewToxics(api ToxicAPI, ws []Window, p profiles.Profile) *Toxics {
	return &Toxics{api: api, windows: ToxicWindows(ws)}
}

// Windows are the toxic windows, with their ends.
func (t *Toxics) Windows() []Window { return t.windows }

// Check reports whether every proxy the toxics name exists.
func (t *Toxics) Check(ctx context.Context) error {
	seen := map[string]bool{}
	var errs []error
	for _, w := range t.windows {
		if p := w.Event.Proxy; !seen[p] {
			seen[p] = true
			if err := t.api.CheckProxy(ctx, p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ToxicName is the name of the toxic of window w: stampede's and unique in the run.
func ToxicName(w Window) string {
	return fmt.Sprintf("stampede_%d_%s", w.Index, w.Event.Toxic.Type)
}

// Run adds and removes the toxics at start + their offsets until ctx ends.
// Toxics still in place when ctx ends are removed before Run returns, so
// the proxy is left as it was found.
func (t *Toxics) Run(ctx context.Context, start time.Time) {
	if len(t.windows) == 0 {
		return
	}
	var steps []step
	for i, w := range t.windows {
		steps = append(steps, step{at: w.Start, w: i, start: true})
		steps = append(steps, step{at: max(w.End, w.Start), w: i})
	}
	active := map[int]bool{}
	if !play(ctx, start, steps, func(s step) { t.apply(ctx, s, active) }) {
		t.removeAll(active)
	}
}

func (t *Toxics) apply(ctx context.Context, s step, active map[int]bool) {
	w := t.windows[s.w]
	a := ToxicApplied{Window: w.Index, At: time.Now()}
	if s.start {
		a.Err = t.api.AddToxic(ctx, w.Event.Proxy, Spec(ToxicName(w), w.Event.Toxic))
		if a.Err == nil {
			active[s.w] = true
		}
	} else {
		if !active[s.w] {
			return // never added: its error is already recorded
		}
		delete(active, s.w)
		a.Err = t.api.RemoveToxic(ctx, w.Event.Proxy, ToxicName(w))
		a.Removed = true
	}
	t.mu.Lock()
	t.applied = append(t.applied, a)
	t.mu.Unlock()
}

func (t *Toxics) removeAll(active map[int]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range t.windows {
		if active[i] {
			t.apply(ctx, step{w: i}, active)
		}
	}
}

// Applied returns what the toxics did so far, in the order it happened:
// one entry when a toxic was added (or failed to be) and one when it was
// removed (Removed set).
func (t *Toxics) Applied() []ToxicApplied {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]ToxicApplied(nil), t.applied...)
}
