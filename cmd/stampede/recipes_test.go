package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTargetRecipesValidate: every profile of examples/targets passes
// stampede profiles validate, and each says where its figures come from
// and how its first credentials are got.
func TestTargetRecipesValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples/targets/*.yaml")
	if err != nil || len(files) < 7 {
		t.Fatalf("recipes: %v, %v", files, err)
	}
	for _, f := range files {
		code, stdout, stderr := runCLI(context.Background(), "profiles", "validate", f)
		if code != exitOK || !strings.Contains(stdout+stderr, ": ok") {
			t.Errorf("%s: exit %d\n%s%s", f, code, stdout, stderr)
		}
		raw, _ := os.ReadFile(f)
		if !strings.HasPrefix(string(raw), "# ") {
			t.Errorf("%s: no header comment saying what its provider's documentation says", f)
		}
		if strings.Contains(string(raw), "kind: oauth2") && !strings.Contains(string(raw), "First credentials") && !strings.Contains(string(raw), "stampede creds") {
			t.Errorf("%s: does not say how to get its first credentials", f)
		}
	}
	readme, err := os.ReadFile("../../examples/targets/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.Contains(string(readme), "("+filepath.Base(f)+")") {
			t.Errorf("examples/targets/README.md does not link %s", filepath.Base(f))
		}
	}
}
