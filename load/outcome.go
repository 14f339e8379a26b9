package load

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds how much of any response stampede reads.
const maxBody = 1 << 20

// errorBody is the JSON error shape of the embedded backend (DESIGN §2).
type errorBody struct {
	Errors []struct {
		Code string `json:"code"`
	} `json:"errors"`
}

// ErrRunEnded is the cancellation cause of requests the run gave up on
// when it ended: they are counted as cancelled, not as timeouts.
var ErrRunEnded = errors.New("run ended")

// classify turns a finished HTTP exchange into an Outcome. ctx is the
// request's context; body is the response body already read (bounded).
func classify(ctx context.Context, resp *http.Response, body []byte, err error) Outcome {
	if err != nil {
		switch {
		case errors.Is(context.Cause(ctx), ErrRunEnded):
			return Outcome{Class: ClassCancelled}
		case errors.Is(err, context.DeadlineExceeded):
			return Outcome{Class: ClassTimeout}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return Outcome{Class: ClassTimeout}
		}
		return Outcome{Class: ClassNetwork, Code: dialCode(err)}
	}
	o := Outcome{Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		o.Class = ClassOK
		return o
	case s == http.StatusUnauthorized:
		o.Class = Class401
	case s == http.StatusTooManyRequests:
		o.Class = Class429
	case s >= 500:
		o.Class = Class5xx
	default:
		o.Class = ClassOther
	}
	o.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		o.Code = eb.Errors[0].Code
	}
	return o
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// readBody reads at most maxBody bytes of a response body and closes it.
// A body cut short by an error is an error.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	// Drain a little more so the connection can be reused; leave huge bodies.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	return b, nil
}
