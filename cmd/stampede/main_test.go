package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/reports"
)

// TestMain lets a test run this test binary as the stampede command.
func TestMain(m *testing.M) {
	if os.Getenv("STAMPEDE_TEST_AS_MAIN") == "1" {
		if g, err := time.ParseDuration(os.Getenv("STAMPEDE_TEST_INTERRUPT_GRACE")); err == nil {
			interruptGrace = g
		}
		main()
		return
	}
	os.Exit(m.Run())
}

func TestSIGINTWritesPartialResultAndExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a stampede process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command(exe, "run", "--clients", "100", "--duration", "1m", "--ramp", "1s",
		"--time-scale", "60", "--out", out, "--no-progress")
	cmd.Env = append(os.Environ(), "STAMPEDE_TEST_AS_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.HasPrefix(sc.Text(), "stampede run ") {
			break // the fleet is starting
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		seen = append(seen, sc.Text())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitInterrupted, strings.Join(seen, "\n"))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %s", d)
	}
	res, err := reports.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial {
		t.Error("result.json is not marked partial")
	}
}

// lines delivers the lines of r on a channel, closed at EOF.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// TestSecondSignalExitsAtOnce holds a graceful stop open (a target that
// never answers, requests that do not time out, a grace of an hour) and
// shows that a second SIGINT ends the process at once, with exit 130 and
// without waiting to write result.json.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a stampede process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	arrived := make(chan struct{})
	var once sync.Once
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks.json" {
			_, _ = io.WriteString(w, `{"keys":[]}`) // the reachability check passes
			return
		}
		once.Do(func() { close(arrived) })
		select { // never answers: the client gives up or goes away
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer target.Close()
	defer close(quit) // runs first: hanging handlers return

	out := t.TempDir()
	cmd := exec.Command(exe, "run", "--target", target.URL, "--clients", "5", "--duration", "10m", "--ramp", "0s",
		"--set", "sdk.request_timeout=10m", "--out", out, "--no-progress",
		"--skip-preflight") // the canary sign-in would hang as every request does
	cmd.Env = append(os.Environ(), "STAMPEDE_TEST_AS_MAIN=1", "STAMPEDE_TEST_INTERRUPT_GRACE=1h")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill() // only if the test failed before it exited
	}()
	errLines := lines(stderr)
	var seen []string
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	waitLine := func(prefix string) {
		t.Helper()
		for {
			select {
			case l, ok := <-errLines:
				if !ok {
					t.Fatalf("stderr ended before %q:\n%s", prefix, strings.Join(seen, "\n"))
				}
				seen = append(seen, l)
				if strings.HasPrefix(l, prefix) {
					return
				}
			case <-deadline.C:
				t.Fatalf("no %q within 60 s; stderr:\n%s", prefix, strings.Join(seen, "\n"))
			}
		}
	}

	select { // the fleet is running, and stuck
	case <-arrived:
	case <-deadline.C:
		t.Fatal("no request reached the target within 60 s")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitLine("stampede: interrupted; stopping") // the graceful stop began, and hangs
	second := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for open := true; open; { // until the process closes stderr
		var l string
		select {
		case l, open = <-errLines:
			seen = append(seen, l)
		case <-deadline.C:
			t.Fatalf("still running 60 s after the second signal; stderr:\n%s", strings.Join(seen, "\n"))
		}
	}
	err = cmd.Wait()
	took := time.Since(second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitInterrupted, strings.Join(seen, "\n"))
	}
	if !strings.Contains(strings.Join(seen, "\n"), "interrupted twice; exiting now") {
		t.Errorf("no second-signal line; stderr:\n%s", strings.Join(seen, "\n"))
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("result.json exists (%v): the graceful stop finished instead of the second signal ending it", err)
	}
	if took > 10*time.Second {
		t.Errorf("exit took %s after the second signal", took)
	}
}
