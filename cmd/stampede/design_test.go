package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is the main module's import path.
const modulePath = "github.com/stampede-load/stampede"

// arrows reads the table between the arrows markers of docs/design.md:
// package → the module's packages it may import ("any" for all).
func arrows(t *testing.T, doc string) map[string][]string {
	t.Helper()
	begin, end := strings.Index(doc, "<!-- arrows:begin -->"), strings.Index(doc, "<!-- arrows:end -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/design.md has no arrows table (<!-- arrows:begin --> … <!-- arrows:end -->)")
	}
	out := map[string][]string{}
	for _, line := range strings.Split(doc[begin:end], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		var allowed []string
		for _, a := range strings.Split(cells[3], ",") {
			if a = strings.Trim(strings.TrimSpace(a), "`"); a != "" && a != "—" {
				allowed = append(allowed, a)
			}
		}
		out[pkg] = allowed
	}
	return out
}

// violations lists the imports of pkgs (package → its imports within the
// module) that the arrows do not allow, and the packages missing from
// either side.
func violations(rules map[string][]string, pkgs map[string][]string) []string {
	var out []string
	for pkg, imports := range pkgs {
		allowed, ok := rules[pkg]
		if !ok {
			out = append(out, pkg+": not in docs/design.md's table")
			continue
		}
		if slices.Contains(allowed, "any") {
			continue
		}
		for _, imp := range imports {
			if !slices.Contains(allowed, imp) {
				out = append(out, pkg+" imports "+imp+" against docs/design.md")
			}
		}
	}
	for pkg := range rules {
		if _, ok := pkgs[pkg]; !ok {
			out = append(out, pkg+": in docs/design.md's table but not in the module")
		}
	}
	slices.Sort(out)
	return out
}

// modulePackages lists the module's packages and their imports within it
// (test files excluded), relative to the module path.
func modulePackages(t *testing.T, root string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	dec := json.NewDecoder(stdout)
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, modulePath), "/")
		var imports []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, modulePath+"/") {
				imports = append(imports, strings.TrimPrefix(imp, modulePath+"/"))
			}
		}
		out[rel] = imports
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return out
}

// TestPackagesImportAlongTheArrows: docs/design.md names every package of
// the module, and no package imports against its table.
func TestPackagesImportAlongTheArrows(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations(arrows(t, string(doc)), modulePackages(t, root)) {
		t.Error(v)
	}
}

// TestArrowsCatchAWrongImport: the check fails on an import the table does
// not allow, on a package the table lacks and on one the module lacks.
func TestArrowsCatchAWrongImport(t *testing.T) {
	rules := arrows(t, "<!-- arrows:begin -->\n| package | purpose | may import |\n|---|---|---|\n"+
		"| `load/model` | the model | `profiles` |\n| `profiles` | profiles | — |\n| `gone` | removed | — |\n<!-- arrows:end -->")
	got := violations(rules, map[string][]string{
		"load/model": {"profiles", "load"},
		"profiles":   nil,
		"load":       {"load/model"},
	})
	want := []string{"gone: in docs/design.md's table but not in the module", "load/model imports load against docs/design.md", "load: not in docs/design.md's table"}
	if !slices.Equal(got, want) {
		t.Errorf("violations = %q\nwant %q", got, want)
	}
}
