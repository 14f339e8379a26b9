package profiles

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on what a profile may ask for, checked before anything is built
// (docs/profiles.md#limits): beyond them a profile is refused (exit 2)
// rather than left to exhaust the machine.
const (
	// MaxProfileBytes bounds a profile file: reading stops there, so
	// "-p /dev/zero" fails at once.
	MaxProfileBytes = 4 << 20
	// MaxClients bounds clients: a fleet larger than this is run in shards
	// (--shard), each process holding its part.
	MaxClients = 100_000_000
	// MaxEvents bounds the fleet events of a profile.
	MaxEvents = 1000
	// MaxTimeScale bounds time_scale: an hour of simulated time per second.
	MaxTimeScale = 3600
	// MaxSimulated bounds the simulated length of a run, duration ×
	// time_scale: 100 years, well inside what a time.Duration holds.
	MaxSimulated = 100 * 365 * 24 * time.Hour
	// MaxAPICallsPerMinute bounds app.api_calls_per_minute per client:
	// 1,000 calls a second.
	MaxAPICallsPerMinute = 60_000
	// MaxProblems is how many problems an invalid profile lists; the rest
	// are counted ("and 12 more problems").
	MaxProblems = 20
	// maxQuoted is how many bytes of an input a message quotes.
	maxQuoted = 64
)

// Quote quotes s for an error message, cut to its first 64 bytes (at a
// rune boundary) with its full size when longer, so that a message never
// repeats an input of any size: Quote of a 100 KB string is 64 bytes,
// "…" and "(100000 bytes)".
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// ErrTooLarge is the error of a file larger than its limit.
var ErrTooLarge = errors.New("too large")

// ReadFileLimited reads the file at path, refusing one of more than limit
// bytes with an error wrapping ErrTooLarge, having read at most limit+1
// bytes of it (a device such as /dev/zero included).
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, at most %d", path, ErrTooLarge, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, limit)
	}
	return data, nil
}

// validateLimits checks the profile's figures against the limits above.
func (p Profile) validateLimits(v *validator) {
	if p.Clients > MaxClients {
		v.bad("clients", "must be at most %d per process, got %d: run a larger fleet in shards (--shard i/n)", MaxClients, p.Clients)
	}
	if len(p.Events) > MaxEvents {
		v.bad("events", "at most %d fleet events, got %d", MaxEvents, len(p.Events))
	}
	if p.TimeScale > MaxTimeScale {
		v.bad("time_scale", "must be at most %d (an hour of simulated time per second), got %g", MaxTimeScale, p.TimeScale)
	} else if p.TimeScale >= 1 && p.Duration > 0 && float64(p.Duration)*p.TimeScale > float64(MaxSimulated) {
		v.badRel("time_scale", []string{"duration"}, "%g × duration %s is more than 100 years of simulated time", p.TimeScale, p.Duration)
	}
	if p.App.APICallsPerMinute > MaxAPICallsPerMinute {
		v.bad("app.api_calls_per_minute", "must be at most %d per client, got %g", MaxAPICallsPerMinute, p.App.APICallsPerMinute)
	}
}

// redactURL hides a password in a URL's user information
// ("http://user:xxxxx@host").
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return u.Redacted()
}
