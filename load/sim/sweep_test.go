package sim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAxesKeepsBracedValuesWhole(t *testing.T) {
	axes, err := ParseAxes([]string{"sdk.retry.jitter=none, full", "events[0]={type: outage, at: 50%, duration: 1m, fraction: 0.5},{type: key_rotation, at: 10%}"})
	if err != nil {
		t.Fatal(err)
	}
	if len(axes) != 2 || !slices.Equal(axes[0].Values, []string{"none", "full"}) || len(axes[1].Values) != 2 ||
		axes[1].Values[1] != "{type: key_rotation, at: 10%}" {
		t.Errorf("axes = %q", axes)
	}
	if _, err := ParseAxes([]string{"=a,b"}); err == nil || !strings.Contains(err.Error(), "--sweep") {
		t.Errorf("a sweep without a path: err %v, want one naming --sweep", err)
	}
}

// TestSweepPageRendersInChromium runs a small sweep and loads its
// comparison page in headless Chromium: the table has a row per point and
// each chart a line per point.
func TestSweepPageRendersInChromium(t *testing.T) {
	p := builtin(t, "elevator", 100, 3*time.Minute)
	axes, _ := ParseAxes([]string{"sdk.retry.jitter=none,full,decorrelated"})
	points, err := Grid(p, axes)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sw, err := RunSweep(context.Background(), SweepOptions{Points: points, OutDir: out, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Points) != 3 || sw.Failed() != 0 {
		t.Fatalf("%d points, %d failed", len(sw.Points), sw.Failed())
	}
	page, err := os.ReadFile(filepath.Join(out, SweepHTMLName))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), "<polyline"); n != 6 {
		t.Errorf("the page has %d lines, want 3 points × 2 charts", n)
	}
	var bin string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if b, err := exec.LookPath(name); err == nil {
			bin = b
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed; .ci/run installs it (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--dump-dom", "file://"+filepath.Join(out, SweepHTMLName)).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, want := range []string{`<table id="comparison">`, "sdk.retry.jitter=decorrelated", `<svg class="chart"`, "Refresh latency p99"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if n := strings.Count(string(dom), "<tr>"); n != 4 {
		t.Errorf("the rendered table has %d rows, want a header and 3 points", n)
	}
}
