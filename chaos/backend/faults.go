package backend

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/stampede-load/stampede/chaos/adminapi"
)

// StatusClientClosedRequest is the status code counted (and written, although
// no client reads it) for a token request whose context ended while it waited
// out Faults.TokenLatency. It is nginx's 499.
const StatusClientClosedRequest = 499

// Faults are run-time faults the backend injects; the zero value injects
// none. See adminapi.Faults for what each does on the wire.
type Faults = adminapi.Faults

// SetFaults replaces the injected faults; Faults{} clears them. Requests
// already past a fault's injection point are not affected. The error is a
// *FieldError naming the first invalid field: rates must be within [0,1],
// TokenLatency and RetryAfter must not be negative (ClockOffset may be).
func (b *Backend) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	b.faults.Store(&f)
	return nil
}

// ClearFaults removes every injected fault; the same as SetFaults(Faults{}).
func (b *Backend) ClearFaults() {
	b.faults.Store(&Faults{})
}

// Faults returns the faults being injected.
func (b *Backend) Faults() Faults {
	return *b.faults.Load()
}

// jwtNow is the JWT clock: Config.Now shifted by Faults.ClockOffset.
func (b *Backend) jwtNow() time.Time {
	now := b.cfg.Now()
	if off := b.faults.Load().ClockOffset; off != 0 {
		now = now.Add(off)
	}
	return now
}

// Draw streams, one per kind of fault decision.
const (
	streamToken uint64 = 0x746f6b656e // "token"
	streamAPI   uint64 = 0x617069     // "api"
)

// faultDice draws uniform numbers in [0,1) without locks. The n-th draw is
// the first output of a math/rand/v2 PCG seeded with (seed+stream, mix(n)),
// so it depends only on the seed, the stream and n.
type faultDice struct {
	seed uint64
	n    atomic.Uint64
}

// newFaultDice returns a dice for stream seeded with seed.
func newFaultDice(seed, stream uint64) *faultDice {
	return &faultDice{seed: seed + stream*0x9e3779b97f4a7c15}
}

// float64 returns the next draw.
func (d *faultDice) float64() float64 {
	pcg := rand.NewPCG(d.seed, mix64(d.n.Add(1)))
	return float64(pcg.Uint64()>>11) * 0x1p-53
}

// mix64 is the SplitMix64 finaliser: consecutive inputs give unrelated outputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// retryAfterSeconds formats d as a Retry-After value: whole seconds rounded
// up; "" for d ≤ 0.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	return strconv.FormatInt(int64(secs), 10)
}

// waitContext waits for d or until ctx is done, whichever comes first, and
// returns ctx's error in the second case.
func waitContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// injectTokenFaults applies the token-endpoint faults. It returns true if it
// answered the request.
func (b *Backend) injectTokenFaults(w http.ResponseWriter, r *http.Request) bool {
	f := b.faults.Load()
	if f.TokenLatency > 0 {
		if err := waitContext(r.Context(), f.TokenLatency); err != nil {
			writeError(w, StatusClientClosedRequest, CodeClientClosedRequest,
				"request ended while the injected token latency of "+f.TokenLatency.String()+" ran: "+err.Error())
			return true
		}
	}
	if f.Rate429 == 0 && f.Rate503 == 0 {
		return false
	}
	switch u := b.tokenDice.float64(); {
	case u < f.Rate429:
		if v := retryAfterSeconds(f.RetryAfter); v != "" {
			w.Header().Set("Retry-After", v)
		}
		writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many token requests (injected fault)")
		return true
	case u < f.Rate429+f.Rate503:
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "token service unavailable (injected fault)")
		return true
	}
	return false
}

// spurious401 reports whether this API call with a valid token is to be
// answered 401 anyway.
func (b *Backend) spurious401() bool {
	rate := b.faults.Load().Spurious401
	return rate > 0 && b.apiDice.float64() < rate
}

// handleFaults serves /admin/faults: GET (and HEAD) the faults, PUT to
// replace them, DELETE to clear them. Every answer is the faults in effect.
func (b *Backend) handleFaults(w http.ResponseWriter, r *http.Request, _ string) {
	switch r.Method {
	case http.MethodPut:
		var f Faults
		if !readSettings(w, r, &f, "faults") {
			return
		}
		if err := b.SetFaults(f); err != nil {
			writeFieldError(w, "faults", err)
			return
		}
	case http.MethodDelete:
		if _, ok := readBody(w, r); !ok {
			return
		}
		b.ClearFaults()
	}
	writeJSON(w, http.StatusOK, b.Faults())
}

// writeFieldError answers 400 invalid_request for a settings error.
func writeFieldError(w http.ResponseWriter, what string, err error) {
	msg := err.Error()
	if fe, ok := errors.AsType[*FieldError](err); ok {
		msg = fe.WireMessage()
	}
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, "invalid "+what+": "+msg)
}
