package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// stampede run -p commute warns, before it starts, that its time scale
// (×20) makes the 10 s request timeout 200 simulated seconds, more than
// three 60 s token lifetimes, and names the largest faithful time scale;
// at that time scale the run does not warn. result.json records both.
func TestRunWarnsWhenTheTimeScaleDistortsTheHerd(t *testing.T) {
	for _, tc := range []struct {
		scale     []string
		warn      bool
		distorted bool
	}{{nil, true, true}, {[]string{"--time-scale", "3"}, false, false}} {
		out := t.TempDir()
		args := append([]string{"run", "-p", "commute", "--clients", "20", "--duration", "2s", "--ramp", "100ms", "--out", out, "--no-progress"}, tc.scale...)
		code, _, stderr := runCLI(context.Background(), args...)
		if code != exitOK && code != exitThresholds {
			t.Fatalf("%v: exit %d; stderr %s", tc.scale, code, stderr)
		}
		const want = "stampede: warning: time scale 20 distorts the herd: the request timeout (10s) lasts 3m20s of simulated time, 3.33 token lifetimes (1m0s), " +
			"and a round trip (400ms) 8s, 0.13 of one; a request can hang past the token it carries: the largest faithful time scale is 3 (--time-scale 3)"
		if got := strings.Contains(stderr, want); got != tc.warn {
			t.Errorf("%v: warned %v, want %v; stderr:\n%s", tc.scale, got, tc.warn, stderr)
		}
		if tc.warn && strings.Index(stderr, want) > 0 {
			t.Errorf("the warning is not the first thing said: %q", stderr)
		}
		res, err := reports.ReadFile(filepath.Join(out, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		if n := res.Sessions.ServerByStatus["active"]; n == 0 {
			t.Errorf("%v: sessions.server_by_status %v: the embedded backend's statuses are missing", tc.scale, res.Sessions.ServerByStatus)
		}
		if ts := res.TimeScale; ts == nil || ts.Distorted != tc.distorted || ts.FaithfulTimeScale != 3 {
			t.Errorf("%v: result.json time_scale %+v, want distorted %v, faithful 3", tc.scale, ts, tc.distorted)
		}
	}
}
