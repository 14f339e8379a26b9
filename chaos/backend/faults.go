package backend

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// StatusClientClosedRequest is the status code counted (and written, although
// no client reads it) for a token request whose context ended while it waited
// out Faults.TokenLatency. It is nginx's 499.
const StatusClientClosedRequest = 499

// Faults are run-time faults the backend injects. The zero value injects none.
//
// Token endpoint (POST /v1/client/sessions/{sid}/tokens), in this order,
// after the request body is read and before admission control (see
// Config.MaxInflight) and the client token are looked at: an injected wait
// holds no request slot, an injected answer is never shed, and it neither
// marks activity nor rotates the client token:
//
//  1. TokenLatency: the request waits this long (real time, never Config.Now)
//     before anything else happens. If its context ends first (the client
//     gave up or the server is closing), it stops waiting and is answered
//     499 code "client_closed_request".
//  2. One uniform draw u in [0,1) while Rate429 or Rate503 is non-zero:
//     u < Rate429 → 429 code "rate_limited", with "Retry-After: <seconds>"
//     when RetryAfter > 0; otherwise u < Rate429+Rate503 → 503 code
//     "unavailable" (no Retry-After). 429 takes precedence: when the rates
//     add up to more than 1, the 503 share is 1−Rate429.
//
// Protected API (/api/...): after the session JWT has verified, one draw
// while Spurious401 is non-zero; u < Spurious401 → 401 code "token_invalid"
// with `WWW-Authenticate: Bearer error="invalid_token"`, exactly as a real
// rejection looks on the wire.
//
// Draws come from a stream per kind (token, api) seeded with Config.Seed: the
// n-th draw of a stream is a pure function of the seed and n, so the same
// seed and the same request order give the same faults. Every injected
// answer is counted in Stats like any response.
type Faults struct {
	// TokenLatency is added before the token endpoint answers.
	TokenLatency time.Duration `json:"token_latency"`
	// Rate429 is the share of token requests answered 429 "rate_limited".
	Rate429 float64 `json:"rate_429"`
	// RetryAfter is sent with injected 429s as Retry-After in whole seconds,
	// rounded up (0 < d ≤ 1s → "1", 1.5s → "2"); 0 omits the header.
	RetryAfter time.Duration `json:"retry_after"`
	// Rate503 is the share of token requests answered 503 "unavailable".
	Rate503 float64 `json:"rate_503"`
	// Spurious401 is the share of protected API calls (/api/...) answered
	// 401 code "token_invalid" although the token is valid.
	Spurious401 float64 `json:"spurious_401"`
	// ClockOffset moves the server's JWT clock: iat, nbf and exp of minted
	// tokens and JWT verification use Config.Now()+ClockOffset. Session
	// bookkeeping (max lifetime, inactivity, rotation grace) keeps
	// Config.Now, so skew alone never expires or abandons sessions. Any sign.
	ClockOffset time.Duration `json:"clock_offset"`
}

// faultsFields are the JSON names of the Faults fields, in wire order.
var faultsFields = []string{"token_latency", "rate_429", "retry_after", "rate_503", "spurious_401", "clock_offset"}

// validate returns an error naming the first invalid field.
func (f Faults) validate() error {
	rates := []struct {
		goName, jsonName string
		v                float64
	}{
		{"Rate429", "rate_429", f.Rate429},
		{"Rate503", "rate_503", f.Rate503},
		{"Spurious401", "spurious_401", f.Spurious401},
	}
	switch {
	case f.TokenLatency < 0:
		return negativeDuration("Faults", "TokenLatency", "token_latency", f.TokenLatency)
	case f.RetryAfter < 0:
		return negativeDuration("Faults", "RetryAfter", "retry_after", f.RetryAfter)
	}
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			return &FieldError{Type: "Faults", Field: r.goName, JSONField: r.jsonName,
				Problem: "must be within [0,1], got " + strconv.FormatFloat(r.v, 'g', -1, 64)}
		}
	}
	return nil
}

// faultsWire is the JSON form of Faults: durations as Go duration strings.
type faultsWire struct {
	TokenLatency string  `json:"token_latency"`
	Rate429      float64 `json:"rate_429"`
	RetryAfter   string  `json:"retry_after"`
	Rate503      float64 `json:"rate_503"`
	Spurious401  float64 `json:"spurious_401"`
	ClockOffset  string  `json:"clock_offset"`
}

// MarshalJSON writes every field; durations as Go duration strings:
// {"token_latency":"300ms","rate_429":0.5,"retry_after":"2s","rate_503":0,"spurious_401":0,"clock_offset":"-1h0m0s"}.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsWire{
		TokenLatency: f.TokenLatency.String(),
		Rate429:      f.Rate429,
		RetryAfter:   f.RetryAfter.String(),
		Rate503:      f.Rate503,
		Spurious401:  f.Spurious401,
		ClockOffset:  f.ClockOffset.String(),
	})
}

// UnmarshalJSON reads a JSON object in the form MarshalJSON writes. Missing
// fields and null are zero; durations must be strings time.ParseDuration
// accepts ("300ms", "1.5s", "-1h"); unknown fields are errors. The error is a
// *FieldError naming the field. Ranges are checked by SetFaults, not here.
func (f *Faults) UnmarshalJSON(data []byte) error {
	members, err := decodeObject(data, "Faults", faultsFields)
	if err != nil || members == nil {
		return err
	}
	var out Faults
	for _, name := range faultsFields {
		raw, ok := members[name]
		if !ok {
			continue
		}
		switch name {
		case "token_latency":
			out.TokenLatency, err = decodeDuration("Faults", "TokenLatency", name, raw)
		case "rate_429":
			out.Rate429, err = decodeRate("Faults", "Rate429", name, raw)
		case "retry_after":
			out.RetryAfter, err = decodeDuration("Faults", "RetryAfter", name, raw)
		case "rate_503":
			out.Rate503, err = decodeRate("Faults", "Rate503", name, raw)
		case "spurious_401":
			out.Spurious401, err = decodeRate("Faults", "Spurious401", name, raw)
		case "clock_offset":
			out.ClockOffset, err = decodeDuration("Faults", "ClockOffset", name, raw)
		}
		if err != nil {
			return err
		}
	}
	*f = out
	return nil
}

// SetFaults replaces the injected faults; Faults{} clears them. Requests
// already past a fault's injection point are not affected. The error is a
// *FieldError naming the first invalid field: rates must be within [0,1],
// TokenLatency and RetryAfter must not be negative (ClockOffset may be).
func (b *Backend) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
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
		msg = fe.wireMessage()
	}
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, "invalid "+what+": "+msg)
}
