package adminapi

import (
	"encoding/json"
	"strconv"
	"time"
)

// Faults are run-time faults the backend injects. The zero value injects none.
//
// Token endpoint (POST /v1/client/sessions/{sid}/tokens), in this order,
// after the request body is read and before admission control (see the
// backend's Config.MaxInflight) and the client token are looked at: an
// injected wait holds no request slot, an injected answer is never shed,
// and it neither marks activity nor rotates the client token:
//
//  1. TokenLatency: the request waits this long (real time, never the
//     backend's Config.Now) before anything else happens. If its context
//     ends first (the client gave up or the server is closing), it stops
//     waiting and is answered 499 code "client_closed_request".
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
// Draws come from a stream per kind (token, api) seeded with the backend's
// Config.Seed: the n-th draw of a stream is a pure function of the seed and
// n, so the same seed and the same request order give the same faults.
// Every injected answer is counted in the backend's Stats like any response.
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
	// tokens and JWT verification use the backend's Config.Now()+ClockOffset.
	// Session bookkeeping (max lifetime, inactivity, rotation grace) keeps
	// Config.Now, so skew alone never expires or abandons sessions. Any sign.
	ClockOffset time.Duration `json:"clock_offset"`
}

// faultsFields are the JSON names of the Faults fields, in wire order.
var faultsFields = []string{"token_latency", "rate_429", "retry_after", "rate_503", "spurious_401", "clock_offset"}

// Validate returns a *FieldError naming the first invalid field: rates must
// be within [0,1], TokenLatency and RetryAfter must not be negative
// (ClockOffset may be).
func (f Faults) Validate() error {
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
// *FieldError naming the field. Ranges are checked by Validate, not here.
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
