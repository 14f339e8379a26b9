package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/model"
)

func TestRetryAfterIsCappedAndNeverOverflows(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"3600", time.Hour},
		{"3601", MaxRetryAfter},
		{"9223372036", MaxRetryAfter},           // ×1e9 ns overflows int64
		{"9223372036854775807", MaxRetryAfter},  // math.MaxInt64 seconds
		{"99999999999999999999", MaxRetryAfter}, // beyond uint64
		{"00000000000000000000000000000000000005", 5 * time.Second},
		{"-1", 0},
		{"-99999999999999999999", 0},
		{"+5", 0},
		{"1.5", 0},
		{"1e9", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(2 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{"Fri, 31 Dec 9999 23:59:59 GMT", MaxRetryAfter}, // Sub saturates at 292 years: still capped
		{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestClassifyCapsRetryAfter holds the cap on what reaches the client model:
// a 429 with an absurd Retry-After still arrives as a 429 to retry within
// MaxRetryAfter.
func TestClassifyCapsRetryAfter(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"99999999999999999999"}}}
	o := Classify(context.Background(), resp, nil, nil)
	if o.Class != model.Class429 || o.RetryAfter != MaxRetryAfter {
		t.Fatalf("classify = %+v, want http_429 with RetryAfter %v", o, MaxRetryAfter)
	}
}
