package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestCredsDeviceGrant mints by the device authorization grant: each
// device code's verification URL is printed once however often the
// token endpoint is polled, and the tokens land in client order.
func TestCredsDeviceGrant(t *testing.T) {
	var mu sync.Mutex
	issued, polls := 0, map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device/code":
			issued++
			dc := "dc" + strings.Repeat("x", issued)
			_ = json.NewEncoder(w).Encode(map[string]any{"device_code": dc, "user_code": "CODE-" + dc,
				"verification_uri": "https://idp.example/device", "expires_in": 60, "interval": 0.01})
		case "/token":
			dc := r.PostForm.Get("device_code")
			if polls[dc]++; polls[dc] < 3 {
				w.WriteHeader(400)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "authorization_pending"})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "expires_in": 60, "refresh_token": "rt-" + dc})
		}
	}))
	defer srv.Close()
	t.Setenv("TEST_STAMPEDE_SECRET", "s")
	yaml := strings.Replace(oauth2ProfileYAML(2, "  device_authorization_endpoint: /device/code"),
		"  users: {pattern: \"user%d@example.com\", password_env: TEST_STAMPEDE_PW}\n", "  credentials_file: unused.jsonl\n", 1)
	code, stdout, stderr := runCLI(context.Background(), "creds", "-p", writeOAuth2Profile(t, yaml), "--target", srv.URL, "--grant", "device", "--concurrency", "1")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if strings.Count(stderr, "open https://idp.example/device and enter the code") != 2 || !strings.Contains(stderr, "client 1: open https://idp.example/device and enter the code CODE-dcxx") {
		t.Errorf("stderr %q: want one prompt per client", stderr)
	}
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 2 || !strings.Contains(lines[0], `"refresh_token":"rt-dcx"`) || !strings.Contains(lines[1], `"refresh_token":"rt-dcxx"`) {
		t.Errorf("stdout %q", stdout)
	}
	if strings.Contains(stderr, "rt-dc") {
		t.Error("stderr shows a refresh token")
	}
}

func TestCredsGrantUsage(t *testing.T) {
	t.Setenv("TEST_STAMPEDE_SECRET", "s")
	t.Setenv("TEST_STAMPEDE_PW", "pw")
	profile := writeOAuth2Profile(t, oauth2ProfileYAML(2, ""))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--grant", "implicit"}, `--grant: want password, code or device, got "implicit"`},
		{[]string{"--grant", "code"}, "target.authorization_endpoint: --grant code needs"},
		{[]string{"--grant", "code"}, "target.redirect_uri: --grant code needs"},
		{[]string{"--grant", "device"}, "target.device_authorization_endpoint: --grant device needs"},
		{[]string{"--grant", "code", "--set", "target.redirect_uri=/callback"}, "--set target.redirect_uri=/callback: want the client's registered redirect URI, absolute"},
	} {
		code, _, stderr := runCLI(context.Background(), append([]string{"creds", "-p", profile, "--target", "http://127.0.0.1:1"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, code, stderr, tc.want)
		}
	}
}
