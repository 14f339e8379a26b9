package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/profiles"
	"github.com/stampede-load/stampede/proxy"
)

func TestProxyFaultStartsASlowBodyAndRefusesABadOneNamingTheField(t *testing.T) {
	px, err := proxy.New(proxy.Config{Upstream: &url.URL{Scheme: "http", Host: "upstream.test"}, Profile: profiles.Default()})
	if err != nil {
		t.Fatal(err)
	}
	admin := httptest.NewServer(px.AdminHandler(""))
	defer admin.Close()
	code, _, stderr := runCLI(context.Background(), "proxy", "fault", "slow_body", "--bytes-per-second", "2048",
		"--chunk-size", "512", "--route", "token", "--for", "30s", "--admin", admin.URL)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	faults := px.Faults()
	if len(faults) != 1 {
		t.Fatalf("faults %v, want the slow_body", faults)
	}
	e := faults[0].Event
	if e.Type != profiles.EventSlowBody || e.BytesPerSecond != 2048 || e.ChunkSize != 512 || e.Route != profiles.RouteToken ||
		faults[0].End-faults[0].Start != 30*time.Second {
		t.Errorf("fault %+v", faults[0])
	}
	code, _, stderr = runCLI(context.Background(), "proxy", "fault", "slow_body", "--bytes-per-second", "2048",
		"--route", "images", "--admin", admin.URL)
	if code != exitUsage || !strings.Contains(stderr, "route") {
		t.Errorf("a bad route: exit %d, %q; want %d naming route", code, stderr, exitUsage)
	}
}
