//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/load/target"
)

// TestDexCodeFlowCredentials mints 200 refresh tokens from Dex by the
// authorization-code grant with PKCE, through Dex's own login form, then
// runs 200 clients on them twice in a row with --update-credentials: Dex
// rotates every refresh token, so the second run signs in only because the
// first wrote the newest tokens back. Both runs: no sign-in errors.
func TestDexCodeFlowCredentials(t *testing.T) {
	dir := filepath.Join(outDir, "codeflow")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "creds.jsonl")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(stampedeBin, "creds", "-p", "testdata/dex-code.yaml", "--target", dexURL, "--grant", "code",
		"--count", "200", "-o", file, "--set", "target.users.pattern=user%d@example.com", "--set", "target.users.password_env=STAMPEDE_PASSWORD")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	_ = os.WriteFile(filepath.Join(outDir, "codeflow-creds.stderr"), stderr.Bytes(), 0o644)
	if err != nil {
		t.Fatalf("stampede creds --grant code: %v\n%s", err, stderr.String())
	}
	t.Logf("creds --grant code: %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr.String()))
	minted, err := target.ReadCredentialsFile(file)
	if err != nil || len(minted) != clients {
		t.Fatalf("credentials file: %d lines, %v", len(minted), err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, %v", fi.Mode(), err)
	}

	for run := 1; run <= 2; run++ {
		name := "codeflow-run" + string(rune('0'+run))
		res := runStampede(t, name, "run", "-p", "testdata/dex-code.yaml", "--target", dexURL,
			"--set", "target.credentials_file="+file, "--update-credentials")
		si := res.Ops["sign_in"]
		t.Logf("%s: sign-ins %d ok of %d, refreshes %d ok of %d, sessions %v", name, si.OK, si.Count,
			res.Ops["refresh"].OK, res.Ops["refresh"].Count, res.Sessions.ByStatus)
		if si.Count != clients || si.OK != clients || si.ErrorCount() != 0 {
			t.Errorf("%s: sign-ins %+v: want %d and no errors", name, si, clients)
		}
		if r := res.Ops["refresh"]; r == nil || r.OK == 0 || r.ErrorCount() != 0 {
			t.Errorf("%s: refreshes %+v: want some (the file must follow rotation) and no errors", name, r)
		}
		if res.Sessions.ByStatus["active"] != clients || res.Sessions.ForcedSignouts != 0 {
			t.Errorf("%s: sessions %+v", name, res.Sessions)
		}
		now, err := target.ReadCredentialsFile(file)
		if err != nil || len(now) != clients {
			t.Fatalf("%s: credentials file: %d lines, %v", name, len(now), err)
		}
		changed := 0
		for i := range now {
			if now[i].RefreshToken != minted[i].RefreshToken {
				changed++
			}
		}
		if changed != clients {
			t.Errorf("%s: %d of %d lines hold a new refresh token", name, changed, clients)
		}
		minted = now
		raw, _ := os.ReadFile(filepath.Join(outDir, name, "result.json"))
		for _, c := range now[:5] {
			if strings.Contains(string(raw), c.RefreshToken) {
				t.Errorf("%s: result.json holds a refresh token", name)
			}
		}
	}
}
