package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/proxy"
)

// requireNodeEnv, when set (.ci/run sets it), makes a missing Node fail
// the axios example's test rather than skip it.
const requireNodeEnv = "STAMPEDE_REQUIRE_NODE"

// axiosExample copies examples/interceptors/axios into a temporary
// directory and installs its dependencies there from the lockfile; it
// returns the directory and the node binary.
func axiosExample(t *testing.T) (dir, node string) {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNPM := exec.LookPath("npm")
	if errNode != nil || errNPM != nil {
		if os.Getenv(requireNodeEnv) != "" || os.Getenv("CI") != "" {
			t.Fatalf("node and npm are required for the axios interceptor example (%s is set): node %v, npm %v", requireNodeEnv, errNode, errNPM)
		}
		t.Skip("node or npm not on PATH; set " + requireNodeEnv + "=1 to make this a failure")
	}
	src := filepath.Join("..", "..", "examples", "interceptors", "axios")
	dir = t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "harness.js", "single-flight.js", "buggy-queue.js", "storm.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir, node
}

// TestAxiosInterceptorsThroughTheProxy runs the axios example's two
// interceptors, each in 20 concurrent app sessions, through stampede proxy
// in front of the embedded backend with a spurious-401 storm and a
// brownout: the buggy queue fails the proxy's thresholds (exit 99), the
// single-flight queue passes them (exit 0).
func TestAxiosInterceptorsThroughTheProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 8 s sessions of Node")
	}
	dir, node := axiosExample(t)
	cases := []struct {
		interceptor string
		want        int
	}{{"single-flight.js", exitOK}, {"buggy-queue.js", exitThresholds}}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			var harnessOut bytes.Buffer
			var harnessErr error
			o := &proxyOptions{
				streams:  streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}},
				upstream: "embedded", listen: "127.0.0.1:0", adminAddr: "127.0.0.1:0",
				profile: filepath.Join(dir, "storm.yaml"), duration: 9 * time.Second, outDir: t.TempDir(),
				maxBody: proxy.DefaultMaxBody, retryLimit: proxy.DefaultRetryLimit, retryWindow: proxy.DefaultRetryWindow,
				thresholds: []string{"proxy.duplicate_refreshes == 0", "proxy.retry_loops == 0", "proxy.stale_retries == 0", "proxy.sessions == 20"},
			}
			done := make(chan struct{})
			o.onListen = func(proxyURL, _ string) {
				go func() {
					defer close(done)
					cmd := exec.Command(node, "harness.js", "--base", proxyURL, "--interceptor", "./"+c.interceptor,
						"--sessions", "20", "--duration", "7s")
					cmd.Dir = dir
					cmd.Stdout, cmd.Stderr = &harnessOut, &harnessOut
					harnessErr = cmd.Run()
				}()
			}
			err := o.run(context.Background())
			<-done
			if harnessErr != nil {
				t.Errorf("%s: harness: %v\n%s", c.interceptor, harnessErr, harnessOut.String())
				return
			}
			if got := exitCode(err); got != c.want {
				t.Errorf("%s: exit %d (%v), want %d\nharness: %s\nproxy: %s", c.interceptor, got, err, c.want,
					harnessOut.String(), o.out.(*bytes.Buffer).String())
			}
			if c.want == exitThresholds && !strings.Contains(err.Error(), "proxy.duplicate_refreshes == 0") {
				t.Errorf("%s: %v does not name the duplicate-refresh threshold", c.interceptor, err)
			}
		})
	}
	wg.Wait()
}
