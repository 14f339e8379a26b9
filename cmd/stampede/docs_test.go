package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// docsRepoRoot is the repository's top folder, seen from this package.
const docsRepoRoot = "../.."

// manualFiles are the Markdown files of the manual: README.md and docs/*.md.
func manualFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(docsRepoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md: the manual lives under docs/")
	}
	return append([]string{filepath.Join(docsRepoRoot, "README.md")}, docs...)
}

// readManual concatenates the manual's files.
func readManual(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, f := range manualFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// commandFlags lists every command of the tree under root (root included)
// with the long names of the flags its --help prints: its own, the
// inherited ones and --help, hidden flags left out. The default help and
// completion commands are added as Execute would add them.
func commandFlags(root *cobra.Command) map[string][]string {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	out := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		var names []string
		add := func(f *pflag.Flag) {
			if !f.Hidden && !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		}
		c.LocalFlags().VisitAll(add)
		c.InheritedFlags().VisitAll(add)
		out[c.CommandPath()] = names
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// undocumentedFlags returns "COMMAND: --flag" for every flag of commands
// that text does not name as --flag.
func undocumentedFlags(commands map[string][]string, text string) []string {
	var missing []string
	for cmd, flags := range commands {
		for _, name := range flags {
			re := regexp.MustCompile(`(^|[^\w-])--` + regexp.QuoteMeta(name) + `([^\w-]|$)`)
			if !re.MatchString(text) {
				missing = append(missing, cmd+": --"+name)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

func TestDocsNameEveryFlagOfEveryCommand(t *testing.T) {
	root := newRootCmd(streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	commands := commandFlags(root)
	for _, want := range []string{"stampede run", "stampede serve", "stampede creds", "stampede profiles validate", "stampede completion bash"} {
		if _, ok := commands[want]; !ok {
			t.Fatalf("the command tree has no %q: the walk misses commands", want)
		}
	}
	if !slices.Contains(commands["stampede run"], "threshold") {
		t.Fatalf("stampede run's flags %v lack --threshold: the walk misses flags", commands["stampede run"])
	}
	for _, m := range undocumentedFlags(commands, readManual(t)) {
		t.Errorf("%s is named nowhere in README.md or docs/*.md", m)
	}
}

func TestDocsFlagCheckReportsAMissingFlag(t *testing.T) {
	cmd := &cobra.Command{Use: "demo"}
	cmd.Flags().String("documented", "", "")
	cmd.Flags().String("set", "", "")
	cmd.Flags().Bool("secret-flag", false, "")
	got := undocumentedFlags(commandFlags(cmd), "use `--documented` and --settings, not --set-up")
	want := []string{"demo: --help", "demo: --secret-flag", "demo: --set"}
	if !slices.Equal(got, want) {
		t.Errorf("undocumentedFlags = %q, want %q", got, want)
	}
}

// mdLink matches an inline Markdown link or image: [text](target "title").
var mdLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)

// mdHeading matches an ATX heading.
var mdHeading = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$`)

// codeSpan matches inline code, whose text is not Markdown.
var codeSpan = regexp.MustCompile("`+[^`]*`+")

// proseLines returns the lines of a Markdown text outside fenced code
// blocks, with their line numbers.
func proseLines(text string) (lines []string, numbers []int) {
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
			continue
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		lines = append(lines, line)
		numbers = append(numbers, i+1)
	}
	return lines, numbers
}

// headingSlug is the anchor GitHub gives a heading: its text lower-cased,
// inline code and links reduced to their text, every character but
// letters, digits, spaces, hyphens and underscores dropped, spaces made
// hyphens.
func headingSlug(heading string) string {
	h := regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1")
	h = strings.ReplaceAll(h, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors lists the heading anchors of a Markdown text, a repeated one
// numbered -1, -2, ... as GitHub does.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	lines, _ := proseLines(text)
	for _, line := range lines {
		m := mdHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := headingSlug(m[1])
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// brokenLink is a relative link that does not resolve.
type brokenLink struct {
	where    string // "file:line: target"
	resolved string // the file it points at
	missing  bool   // the file does not exist (else its anchor does not)
	reason   string
}

func (b brokenLink) String() string { return b.where + ": " + b.reason }

// brokenLinks checks every relative link and image of the Markdown file
// path: its file must exist, and its #anchor, if any, must be a heading of
// the Markdown file it points at. It returns every broken link.
func brokenLinks(path string) ([]brokenLink, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var broken []brokenLink
	lines, numbers := proseLines(string(data))
	for i, line := range lines {
		for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			target := m[1]
			if regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`).MatchString(target) {
				continue // http:, https:, mailto:: not a file of the repository
			}
			file, anchor, _ := strings.Cut(target, "#")
			resolved := path
			if file != "" {
				resolved = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
			}
			where := fmt.Sprintf("%s:%d: %s", path, numbers[i], target)
			if _, err := os.Stat(resolved); err != nil {
				broken = append(broken, brokenLink{where: where, resolved: resolved, missing: true, reason: "no such file"})
				continue
			}
			if anchor == "" || !strings.HasSuffix(resolved, ".md") {
				continue
			}
			doc, err := os.ReadFile(resolved)
			if err != nil {
				return nil, err
			}
			if !anchors(string(doc))[anchor] {
				broken = append(broken, brokenLink{where: where, resolved: resolved, reason: fmt.Sprintf("no heading #%s in %s", anchor, resolved)})
			}
		}
	}
	return broken, nil
}

func TestDocsLinksResolve(t *testing.T) {
	links := 0
	for _, f := range manualFiles(t) {
		broken, err := brokenLinks(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range broken {
			t.Error(b)
		}
		data, _ := os.ReadFile(f)
		links += len(mdLink.FindAllString(string(data), -1))
	}
	if links < 20 {
		t.Errorf("found %d links in the manual: the link pattern misses links", links)
	}
}

func TestDocsLinkCheckReportsBrokenLinks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("other.md", "# Overriding any field: `--set`\n\n## Same\n\n## Same\n\n```\n# not a heading\n```\n")
	write("a.md", strings.Join([]string{
		"# Top",
		"[ok](other.md#overriding-any-field---set) [ok](other.md#same-1) [ok](#top) [web](https://example.com/x.md)",
		"![picture](missing.png)",
		"[gone](nowhere.md)",
		"[bad anchor](other.md#not-a-heading)",
		"[self](#nope)",
		"`[in code](nowhere.md)`",
		"```",
		"[in a fence](nowhere.md)",
		"```",
	}, "\n"))
	got, err := brokenLinks(filepath.Join(dir, "a.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.md:3: missing.png: no such file", "a.md:4: nowhere.md: no such file",
		"a.md:5: other.md#not-a-heading: no heading", "a.md:6: #nope: no heading"}
	if len(got) != len(want) {
		t.Fatalf("brokenLinks reported %d links, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !strings.Contains(got[i].String(), want[i]) {
			t.Errorf("report %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
	if _, err := brokenLinks(filepath.Join(dir, "absent.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("brokenLinks of a missing file: err = %v, want it not to exist", err)
	}
}

func TestHeadingSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Overriding any field: `--set`":           "overriding-any-field---set",
		"Connections, descriptors and ports":      "connections-descriptors-and-ports",
		"`stampede run`":                          "stampede-run",
		"A worked example: Dex":                   "a-worked-example-dex",
		"TCP-level faults with Toxiproxy":         "tcp-level-faults-with-toxiproxy",
		"`result.json` fields":                    "resultjson-fields",
		"See [the model](client-model.md) (v1.2)": "see-the-model-v12",
	} {
		if got := headingSlug(heading); got != want {
			t.Errorf("headingSlug(%q) = %q, want %q", heading, got, want)
		}
	}
}
