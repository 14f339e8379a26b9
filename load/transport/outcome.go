package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// MaxBody bounds how much of any response stampede reads.
const MaxBody = 1 << 20

// errorBody is the JSON error shape of the embedded backend
// (docs/targets.md#the-embedded-backend), {"errors":[{"code":...}]}, and
// of OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3), {"error":"invalid_token"}.
type errorBody struct {
	Errors []struct {
		Code string `json:"code"`
	} `json:"errors"`
	Error json.RawMessage `json:"error"`
}

// MaxCode bounds the length of an error code read from an answer.
const MaxCode = 64

// ErrorCode is the error code a failed answer's JSON body carries: the
// embedded backend's errors[0].code, else OAuth 2.0's error (a string);
// "" when it carries none.
func ErrorCode(body []byte) string {
	var eb errorBody
	// A member of another type (an "error" object) leaves the rest read.
	var se *json.SyntaxError
	if err := json.Unmarshal(body, &eb); err != nil && (errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return ""
	}
	code := ""
	switch {
	case len(eb.Errors) > 0 && eb.Errors[0].Code != "":
		code = eb.Errors[0].Code
	case len(eb.Error) > 0 && eb.Error[0] == '"':
		_ = json.Unmarshal(eb.Error, &code)
	}
	return code[:min(len(code), MaxCode)]
}

// BodyHead is the head of a failed answer's body for Outcome.Body: one
// byte more than a sample keeps, so that reports.SampleBody, which
// redacts it where it is kept, can tell a cut body. Copying it is all a
// failed answer costs; the redaction is paid once per kind of answer.
func BodyHead(body []byte) string {
	return string(body[:min(len(body), reports.SampleBytes+1)])
}

// bearerError reads the error of a WWW-Authenticate: Bearer challenge
// (RFC 6750 §3): `Bearer realm="api", error="invalid_token"`.
func bearerError(h string) string {
	_, rest, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return code[:min(len(code), MaxCode)]
}

// ErrRunEnded is the cancellation cause of requests the run gave up on
// when it ended: they are counted as cancelled, not as timeouts.
var ErrRunEnded = errors.New("run ended")

// classify turns a finished HTTP exchange into an Outcome. ctx is the
// request's context; body is the response body already read (bounded).
func Classify(ctx context.Context, resp *http.Response, body []byte, err error) model.Outcome {
	if err != nil {
		switch {
		case errors.Is(context.Cause(ctx), ErrRunEnded):
			return model.Outcome{Class: model.ClassCancelled}
		case errors.Is(err, context.DeadlineExceeded):
			return model.Outcome{Class: model.ClassTimeout}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return model.Outcome{Class: model.ClassTimeout}
		}
		return model.Outcome{Class: model.ClassNetwork, Code: dialCode(err)}
	}
	o := model.Outcome{Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		o.Class = model.ClassOK
		return o
	case s == http.StatusUnauthorized:
		o.Class = model.Class401
	case s == http.StatusTooManyRequests:
		o.Class = model.Class429
	case s >= 500:
		o.Class = model.Class5xx
	default:
		o.Class = model.ClassOther
	}
	o.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	if len(body) > 0 {
		o.Code = ErrorCode(body)
		o.Body = BodyHead(body)
	}
	if o.Code == "" && o.Class == model.Class401 {
		o.Code = bearerError(resp.Header.Get("WWW-Authenticate"))
	}
	return o
}

// MaxRetryAfter caps the wait a Retry-After header can impose: a longer
// delay, or a date further ahead, counts as MaxRetryAfter. Without the cap a
// delay such as 99999999999999999999 s would overflow time.Duration, and a
// date in year 9999 would park the client for the rest of any run.
const MaxRetryAfter = time.Hour

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): delay-seconds
// or an HTTP date, capped at MaxRetryAfter. Anything else (a negative or
// fractional delay, a date in the past, garbage) is 0: no wait asked for.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		// delay-seconds: digits only, of any length.
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil || s > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter // too large even for uint64, or beyond the cap
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// readBody reads at most MaxBody bytes of a response body into buf and
// closes it.
func ReadBody(resp *http.Response, buf *bytes.Buffer) error {
	defer resp.Body.Close()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxBody)); err != nil {
		return err
	}
	// Drain a little more so the connection can be reused; leave huge bodies.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	return nil
}

// bodyBufs are the buffers answers are read into: every request reads one,
// and what the clients keep of it is copied out.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// GetBodyBuf is an empty buffer from bodyBufs; give it back with PutBodyBuf.
func GetBodyBuf() *bytes.Buffer {
	b := bodyBufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// PutBodyBuf returns b to bodyBufs unless it grew large (an endless body).
func PutBodyBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bodyBufs.Put(b)
	}
}
