package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stampede-load/stampede/reports"
)

// TestNoOutputShowsSecretsPlantedInAnHTTPTarget runs an http target whose
// profile file holds a password in its URL, a credential header, a body
// naming a secret from the environment, and users whose password comes
// from the environment, then searches every byte stampede wrote (stdout,
// stderr, every file of --out, every report and compare format) for each
// planted secret and every token the server issued.
func TestNoOutputShowsSecretsPlantedInAnHTTPTarget(t *testing.T) {
	const (
		urlPassword  = "PlantedURLPasswordForHTTP0123"
		headerSecret = "PlantedHeaderSecret0123456789"
		envSecret    = "PlantedEnvAppKey0123456789abc"
		userPassword = "PlantedUserPassword012345678"
	)
	t.Setenv("STAMPEDE_TEST_APP_KEY", envSecret)
	t.Setenv("STAMPEDE_TEST_PASSWORD", userPassword)
	var mu sync.Mutex
	issued := map[string]bool{}
	seen := map[string]bool{} // the secrets the server was sent
	token := func() string {
		b := make([]byte, 16)
		rand.Read(b)
		tok := "opaque" + hex.EncodeToString(b)
		mu.Lock()
		issued[tok] = true
		mu.Unlock()
		return tok
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body strings.Builder
		buf := make([]byte, 4096)
		n, _ := r.Body.Read(buf)
		body.Write(buf[:n])
		mu.Lock()
		for _, s := range []string{headerSecret, envSecret, userPassword} {
			if strings.Contains(r.Header.Get("X-Api-Key")+r.Header.Get("X-App-Key")+body.String(), s) {
				seen[s] = true
			}
		}
		mu.Unlock()
		switch {
		case r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/refresh"):
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"access_token": token(), "refresh_token": token(), "expires_in": 60}})
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	profile := filepath.Join(t.TempDir(), "http.yaml")
	url := strings.Replace(srv.URL, "http://", "http://loadtest:"+urlPassword+"@", 1)
	if err := os.WriteFile(profile, []byte(`clients: 5
duration: 2s
ramp: 200ms
time_scale: 60
target:
  kind: http
  url: `+url+`
  users: {pattern: "user%d@example.com", password_env: STAMPEDE_TEST_PASSWORD}
  sign_in:
    path: /login
    headers: ["X-Api-Key: `+headerSecret+`", "X-App-Key: {{env \"STAMPEDE_TEST_APP_KEY\"}}"]
    body: '{"email": {{json .User}}, "password": {{json .Password}}}'
  refresh:
    path: /refresh
    headers: ["Authorization: Bearer {{.RefreshToken}}"]
  api: {method: GET, path: /me, headers: ["Authorization: Bearer {{.Token}}"]}
  response: {token: data.access_token, refresh_token: data.refresh_token, expires_in: data.expires_in}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(context.Background(), "run", "-p", profile, "--out", out, "--no-progress")
	if code != exitOK && code != exitThresholds {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	outputs := map[string]string{"stdout": stdout, "stderr": stderr}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		outputs[e.Name()] = string(b)
	}
	res := filepath.Join(out, "result.json")
	for _, format := range reports.Formats() {
		_, so, se := runCLI(context.Background(), "report", res, "--format", format)
		outputs["report --format "+format] = so + se
	}
	for _, format := range reports.ComparisonFormats() {
		_, so, se := runCLI(context.Background(), "compare", res, res, "--format", format)
		outputs["compare --format "+format] = so + se
	}
	_, so, se := runCLI(context.Background(), "profiles", "validate", profile)
	outputs["profiles validate"] = so + se

	mu.Lock()
	defer mu.Unlock()
	for _, s := range []string{headerSecret, envSecret, userPassword} {
		if !seen[s] {
			t.Errorf("the server was never sent %s: the secret was not planted", s)
		}
	}
	if len(issued) < 10 {
		t.Fatalf("the server issued %d tokens: the run did not sign in", len(issued))
	}
	secrets := map[string]bool{urlPassword: true, headerSecret: true, envSecret: true, userPassword: true}
	for k := range issued {
		secrets[k] = true
	}
	for what, text := range outputs {
		for s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %s", what, s)
			}
		}
		if found := jwtLike.FindString(text); found != "" {
			t.Errorf("%s shows a JWT %s", what, found)
		}
	}
}
