package adminapi

import (
	"encoding/json"
	"time"
)

// Rotation configures client-token rotation. Enabled: every successful token
// mint issues a new client token and retires the presented one.
//
// Wire behaviour of the client endpoints (tokens, touch, end), which
// authenticate with "Authorization: Bearer <client_token>". Each session
// keeps its current client token and the one retired last, with the time it
// was retired (the backend's Config.Now, never skewed by Faults.ClockOffset):
//
//   - Current token, rotation on: POST .../tokens retires it and answers 200
//     {"object":"token","jwt":"<jwt>","client_token":"<new>"}; the retired
//     token becomes the previous one. touch and end do not rotate.
//   - Current token, rotation off: 200 {"object":"token","jwt":"<jwt>"}, no
//     client_token field, nothing rotates.
//   - Previous token, less than Grace after its retirement (now <
//     retired+Grace, Grace read when the token is presented): accepted as the
//     current one would be, but nothing rotates; the token endpoint answers
//     200 {"object":"token","jwt":"<jwt>","client_token":"<current>"} (with
//     the field even when rotation has since been turned off), so a client
//     that lost a response recovers.
//   - Previous token at or after retired+Grace, or any older token of the
//     session (only one generation is remembered, so an older token counts
//     as reuse even within Grace): reuse. The session becomes revoked and
//     the answer is 401 code "client_token_reused"; from then on every
//     token of the session, current ones included, is answered 401
//     "session_revoked".
//   - A token that was never the session's: 401 "client_token_invalid";
//     unknown session: 404 "session_not_found".
//
// A session that is not active answers 401 "session_<status>" to its
// current, previous and older tokens alike. Comparisons are constant-time.
// Client tokens are 43 characters of base64url (32 bytes: the generation
// masked, then an HMAC-SHA256 of session id and generation under a key of
// the backend), so older generations are recognised without storing them.
type Rotation struct {
	Enabled bool `json:"enabled"`
	// Grace: a retired client token presented within Grace of its
	// retirement is still accepted (Auth0 "reuse interval", Okta leeway);
	// after that, its reuse revokes the session (the whole family). 0: any
	// reuse revokes.
	Grace time.Duration `json:"grace"`
}

// rotationFields are the JSON names of the Rotation fields.
var rotationFields = []string{"enabled", "grace"}

// Validate returns a *FieldError naming the first invalid field: Grace
// must not be negative.
func (r Rotation) Validate() error {
	if r.Grace < 0 {
		return negativeDuration("Rotation", "Grace", "grace", r.Grace)
	}
	return nil
}

// rotationWire is the JSON form of Rotation.
type rotationWire struct {
	Enabled bool   `json:"enabled"`
	Grace   string `json:"grace"`
}

// MarshalJSON writes {"enabled":true,"grace":"2s"}.
func (r Rotation) MarshalJSON() ([]byte, error) {
	return json.Marshal(rotationWire{Enabled: r.Enabled, Grace: r.Grace.String()})
}

// UnmarshalJSON reads the form MarshalJSON writes. Missing fields and null
// are zero; grace is a Go duration string; unknown fields are errors. The
// error is a *FieldError naming the field.
func (r *Rotation) UnmarshalJSON(data []byte) error {
	members, err := decodeObject(data, "Rotation", rotationFields)
	if err != nil || members == nil {
		return err
	}
	var out Rotation
	if raw, ok := members["enabled"]; ok {
		if out.Enabled, err = decodeBool("Rotation", "Enabled", "enabled", raw); err != nil {
			return err
		}
	}
	if raw, ok := members["grace"]; ok {
		if out.Grace, err = decodeDuration("Rotation", "Grace", "grace", raw); err != nil {
			return err
		}
	}
	*r = out
	return nil
}
