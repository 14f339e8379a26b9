package chaos

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestChaosDoesNotLinkTheBackend keeps the embedded backend out of every
// program that runs fleet events: chaos speaks the admin API through the
// wire types of chaos/adminapi, so the load engine does not link the server.
func TestChaosDoesNotLinkTheBackend(t *testing.T) {
	deps := goListDeps(t, "github.com/stampede-load/stampede/chaos")
	if !slices.Contains(deps, "github.com/stampede-load/stampede/chaos/adminapi") {
		t.Fatalf("go list -deps does not list chaos/adminapi; the check would prove nothing: %v", deps)
	}
	for _, forbidden := range []string{"github.com/stampede-load/stampede/chaos/backend"} {
		if slices.Contains(deps, forbidden) {
			t.Errorf("chaos depends on %s; use the wire types of chaos/adminapi instead", forbidden)
		}
	}
	// adminapi stays small: no HTTP, no server.
	for _, d := range goListDeps(t, "github.com/stampede-load/stampede/chaos/adminapi") {
		if d == "net/http" || strings.HasPrefix(d, "github.com/stampede-load/stampede/") && d != "github.com/stampede-load/stampede/chaos/adminapi" {
			t.Errorf("chaos/adminapi depends on %s", d)
		}
	}
}

// goListDeps returns the packages pkg depends on, itself included.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	// go test puts its own GOROOT/bin first on the PATH of the test.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list dependencies with: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", pkg).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v %s", pkg, err, msg)
	}
	return strings.Fields(string(out))
}
