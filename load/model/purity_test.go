package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// forbiddenImports are packages the model must not import itself: it does
// no I/O, so every engine (live, simulated, proxy) can drive it.
var forbiddenImports = []string{"net", "os", "syscall", "io/fs", "unsafe", "github.com/stampede-load/stampede/load"}

// forbiddenDeps are packages the model must not link even indirectly.
var forbiddenDeps = []string{"net/http", "net", "crypto/tls", "github.com/stampede-load/stampede/load", "github.com/stampede-load/stampede/chaos"}

// forbiddenTime are the time functions that read the clock or wait on it.
var forbiddenTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true,
}

// impurities lists what in the non-test Go files of dir reads the clock,
// starts a goroutine or imports an I/O package, as "file:line: what".
func impurities(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		timeName := ""
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if path == bad || !strings.Contains(bad, ".") && strings.HasPrefix(path, bad+"/") {
					out = append(out, fset.Position(imp.Pos()).String()+": imports "+path)
				}
			}
			if path == "time" {
				timeName = "time"
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				out = append(out, fset.Position(n.Pos()).String()+": starts a goroutine")
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && forbiddenTime[n.Sel.Name] {
					out = append(out, fset.Position(n.Pos()).String()+": calls time."+n.Sel.Name)
				}
			}
			return true
		})
	}
	return out
}

// TestModelIsPure: the client model imports no network, OS or clock and
// starts no goroutine (docs/design.md); the build fails if it ever does.
func TestModelIsPure(t *testing.T) {
	for _, bad := range impurities(t, ".") {
		t.Error(bad)
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, d := range strings.Fields(string(out)) {
		deps[d] = true
	}
	for _, bad := range forbiddenDeps {
		if deps[bad] {
			t.Errorf("the model links %s", bad)
		}
	}
}

// TestPurityCheckCatchesImpurity: the check above fails on a model file
// that imports net/http, reads the clock or starts a goroutine.
func TestPurityCheckCatchesImpurity(t *testing.T) {
	dir := t.TempDir()
	src := `package model

import (
	"net/http"
	clock "time"
)

func fetch() {
	_ = clock.Now()
	go http.Get("http://127.0.0.1:1/")
}
`
	if err := os.WriteFile(filepath.Join(dir, "impure.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(impurities(t, dir), "\n")
	for _, want := range []string{"impure.go:4:2: imports net/http", "calls time.Now", "impure.go:10:2: starts a goroutine"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it found:\n%s", want, got)
		}
	}
}
