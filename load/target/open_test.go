package target

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/profiles"
)

// TestOpenTargetThatNeverAnswersTimesOut: a listener that never accepts
// (the TCP handshake completes in the backlog but no HTTP answer ever
// comes) fails the pre-flight within its timeout, naming the target; it is
// no configuration error.
func TestOpenTargetThatNeverAnswersTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := profiles.Default()
	p.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: "http://" + ln.Addr().String()}
	_, err = Open(context.Background(), p, Options{Client: &http.Client{}, Source: "--target", PreflightTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "--target http://"+ln.Addr().String()+" is unreachable") {
		t.Fatalf("err %v; want the target named as unreachable", err)
	}
	if ce := (*ConfigError)(nil); errors.As(err, &ce) {
		t.Errorf("err %v is a configuration error", err)
	}
}

// TestOpenEmbeddedBackend starts the embedded backend on loopback with the
// profile's scaled lifetimes, with its admin API and metrics, and Close
// stops it.
func TestOpenEmbeddedBackend(t *testing.T) {
	p := profiles.Default()
	var be *backend.Backend
	tg, err := Open(context.Background(), p, Options{Client: &http.Client{}, OnBackend: func(b *backend.Backend) { be = b }})
	if err != nil {
		t.Fatal(err)
	}
	if be == nil || tg.Admin == nil || tg.Metrics == nil || tg.Report.Kind != "embedded" || !strings.HasPrefix(tg.Report.URL, "http://127.0.0.1:") {
		t.Fatalf("opened %+v, backend %v", tg, be)
	}
	resp, err := http.Get(tg.Report.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tg.Close()
	if _, err := http.Get(tg.Report.URL + "/.well-known/jwks.json"); err == nil {
		t.Error("the embedded backend still answers after Close")
	}
}

// TestOpenConfigErrors: problems of the profile's target are one
// *ConfigError naming every field, before anything is sent; a target URL's
// password never shows.
func TestOpenConfigErrors(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	p := profiles.Default()
	p.Clients = 3
	p.Target = profiles.Target{Kind: profiles.TargetOAuth2, URL: srv.URL, TokenEndpoint: "/token", ClientID: "c",
		ClientSecretEnv: "NO_SUCH_SECRET", Users: profiles.Users{Pattern: "u%d", PasswordEnv: "NO_SUCH_PW"}}
	getenv := func(string) (string, bool) { return "", false }
	_, err := Open(context.Background(), p, Options{Client: srv.Client(), Getenv: getenv})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "target.client_secret_env: the environment variable NO_SUCH_SECRET is not set\n") ||
		!strings.Contains(err.Error(), "target.users.password_env: the environment variable NO_SUCH_PW is not set") {
		t.Errorf("err %v", err)
	}
	p.Target = profiles.Target{Kind: profiles.TargetHTTP, URL: srv.URL, Users: profiles.Users{Pattern: "u%d", PasswordEnv: "NO_SUCH_PW"}}
	if _, err := Open(context.Background(), p, Options{Client: srv.Client(), Getenv: getenv}); !errors.As(err, &ce) ||
		err.Error() != "target.users.password_env: the environment variable NO_SUCH_PW is not set" {
		t.Errorf("http: err %v", err)
	}
	if hits != 0 {
		t.Errorf("%d requests sent for a target that does not open", hits)
	}
	p.Target = profiles.Target{Kind: profiles.TargetFAPI, URL: "http://user:s3cret@127.0.0.1:1"}
	if _, err := Open(context.Background(), p, Options{Client: srv.Client(), PreflightTimeout: time.Second}); err == nil ||
		strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "target.url http://user:xxxxx@127.0.0.1:1 is unreachable") {
		t.Errorf("fapi: err %v", err)
	}
}
