package profiles

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes a profile may expand to, aliases
// followed, so a small file cannot make the parser do unbounded work.
const maxNodes = 100_000

// Parse reads a profile from YAML and validates it. file names the source
// in error messages (it is not read). Fields the profile does not give take
// their value from Default(); a section with a preset (sdk.preset,
// network.preset) starts from the preset's values and the fields it gives
// override them; name defaults to the file's base name without extension.
//
// On error the profile is the zero Profile and the error joins one
// *FieldError per problem, every problem of the file at once, each
// formatted "FILE:LINE: PATH: MESSAGE".
func Parse(file string, data []byte) (Profile, error) {
	return parse(file, data, nil)
}

// LoadFile reads and parses the profile file at path (see Parse).
func LoadFile(path string) (Profile, error) {
	return LoadFileWith(path, nil)
}

// LoadFileWith is LoadFile with adjust applied to the profile after it is
// read and before it is validated (see ResolveWith).
func LoadFileWith(path string, adjust func(*Profile)) (Profile, error) {
	data, err := ReadFileLimited(path, MaxProfileBytes)
	if err != nil {
		return Profile{}, fmt.Errorf("read profile: %w", err)
	}
	return parse(path, data, adjust)
}

// Resolve returns the profile a user named: a built-in profile of that name
// ("" is "default"), else the profile file at that path when it exists or
// ends in .yaml or .yml. Any other name is an error listing the built-ins.
func Resolve(nameOrPath string) (Profile, error) {
	return ResolveWith(nameOrPath, nil)
}

// ResolveWith is Resolve with adjust (when not nil) applied to the profile
// after it is read and before it is validated, so that overrides (command
// line flags) are validated with the profile and problems still name the
// file and line of the fields involved.
func ResolveWith(nameOrPath string, adjust func(*Profile)) (Profile, error) {
	name := cmp.Or(nameOrPath, "default")
	if src, err := BuiltinSource(name); err == nil {
		return parse(builtinFile(name), src, adjust)
	}
	ext := strings.ToLower(filepath.Ext(name))
	if _, err := os.Stat(name); err == nil || ext == ".yaml" || ext == ".yml" {
		return LoadFileWith(name, adjust)
	}
	return Profile{}, fmt.Errorf("unknown profile %s: not a built-in profile (%s) and no such file",
		Quote(name), strings.Join(BuiltinNames(), ", "))
}

// parse decodes data over Default(), applies adjust, validates, and returns
// the profile or every problem located in file.
func parse(file string, data []byte, adjust func(*Profile)) (Profile, error) {
	d := &decoder{file: file, lines: map[string]int{}, failed: map[string]bool{}, active: map[*yaml.Node]bool{}}
	p := Default()
	p.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if file == "" {
		p.Name = "profile"
	}
	p.Description = ""
	if root := d.document(data); root != nil {
		d.value(root, "", reflect.ValueOf(&p).Elem())
	}
	p.Description = strings.TrimSpace(p.Description)
	if adjust != nil {
		adjust(&p)
	}
	p.FitStages()
	for _, fe := range FieldErrors(p.Validate()) {
		if !d.suppressed(fe) {
			d.locate(fe)
			d.errs = append(d.errs, fe)
		}
	}
	if len(d.errs) == 0 {
		return p, nil
	}
	return Profile{}, d.joined()
}

// decoder walks a YAML node tree into a Profile, collecting every problem.
type decoder struct {
	file  string
	lines map[string]int // field path → line of its key in the file
	errs  []*FieldError
	// failed holds the paths whose value could not be read: Validate's
	// view of them (their defaults) is not reported.
	failed map[string]bool
	nodes  int
	active map[*yaml.Node]bool // aliases being followed
	// rebase is set for an override (Set): a preset keeps the fields the
	// section changed from its old preset (see startFrom).
	rebase bool
	// more counts the problems beyond those kept in errs.
	more int
}

// fail records a problem at a line of the file and marks path as unread.
// Beyond a few times MaxProblems, problems are only counted: a file of a
// million unknown keys fails fast with a bounded message.
func (d *decoder) fail(line int, path, format string, args ...any) {
	d.failed[path] = true
	if len(d.errs) >= 4*MaxProblems {
		d.more++
		return
	}
	d.errs = append(d.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...), File: d.file, Line: line, InFile: true})
}

// document parses data into the root node of its one YAML document; nil
// when there is none or the YAML does not parse.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.fail(1, "", "the profile is empty: a profile is a YAML mapping of fields such as \"clients: 1000\"")
		} else {
			d.syntax(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.fail(next.Line, "", "a second YAML document (after ---): a profile file holds one profile")
	case !errors.Is(err, io.EOF):
		d.syntax(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		d.fail(doc.Line, "", "not a YAML document")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		got := describe(root)
		if root.Kind == yaml.ScalarNode && len(root.Value) > maxQuoted {
			// Some other file (-p /etc/passwd): its text is not repeated.
			got = fmt.Sprintf("%d bytes of text: not a YAML profile", len(root.Value))
		}
		d.fail(root.Line, "", "want a mapping of profile fields (%s), got %s", strings.Join(fieldNames(reflect.TypeFor[Profile]()), ", "), got)
		return nil
	}
	return root
}

// syntax records a YAML syntax error, at its line when the parser gave one.
func (d *decoder) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	// The parser's errors read "yaml: line 3: did not find expected key".
	if m := regexp.MustCompile(`^yaml: line (\d+): (.*)$`).FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	d.fail(line, "", "invalid YAML: %s", msg)
}

// fieldNames lists the YAML names of t's fields, in declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// fieldIndex finds the field of t whose YAML name is name.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); n == name {
			return i, true
		}
	}
	return 0, false
}

// join extends a field path: join("sdk", "retry") is "sdk.retry".
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// parent is the path one level up: "events[2]" for "events[2].at", "" at the top.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// describe says what a node holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias (*" + n.Value + ")"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!str":
			return Quote(n.Value)
		case "!!int", "!!float", "!!bool":
			if len(n.Value) > maxQuoted {
				return Quote(n.Value)
			}
			return n.Value
		}
		tag := n.ShortTag()
		if strings.ContainsFunc(tag, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) {
			tag = strconv.Quote(tag) // "!%0A" is a tag with a newline
		}
		return tag + " " + Quote(n.Value)
	}
	return "something else"
}

// isNull reports whether n is an empty value ("key:" or "key: null").
func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// value decodes n into v, the field at path.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(n.Line, path, "the profile expands to more than %d YAML nodes (aliases followed): too large", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || d.active[n] {
			d.fail(n.Line, path, "alias *%s refers to itself", n.Value)
			return
		}
		d.active[n] = true
		d.value(n.Alias, path, v)
		delete(d.active, n)
		return
	}
	t := v.Type()
	switch t {
	case reflect.TypeFor[Duration]():
		d.duration(n, path, v)
		return
	case reflect.TypeFor[At]():
		d.at(n, path, v)
		return
	case reflect.TypeFor[Threshold]():
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			d.scalar(n, join(path, "expr"), v.FieldByName("Expr"))
			return
		}
		if n.Kind == yaml.MappingNode {
			v.Set(reflect.Zero(t))
		}
	case reflect.TypeFor[Dist]():
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			var dv Duration
			if d.duration(n, path, reflect.ValueOf(&dv).Elem()) {
				v.Set(reflect.ValueOf(Dist{Dist: DistFixed, Value: dv}))
			}
			return
		}
		if n.Kind == yaml.MappingNode {
			v.Set(reflect.Zero(t))
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		d.mapping(n, path, v)
	case reflect.Slice:
		d.sequence(n, path, v)
	default:
		d.scalar(n, path, v)
	}
}

// mapping decodes a mapping node into the struct v.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	t := v.Type()
	if isNull(n) {
		return // "sdk:" with nothing under it: the defaults stay
	}
	if n.Kind != yaml.MappingNode {
		switch t {
		case reflect.TypeFor[Threshold]():
			d.fail(n.Line, path, `want a threshold such as "refresh.p99 < 250ms" or {expr: "...", abort_on_fail: true}, got %s`, describe(n))
		case reflect.TypeFor[Dist]():
			d.fail(n.Line, path, `want a duration such as "2m" (fixed) or {dist: fixed|exponential|lognormal, value: 2m, sigma: 1}, got %s`, describe(n))
		default:
			d.fail(n.Line, path, "want a mapping of %s fields (%s), got %s", path, strings.Join(fieldNames(t), ", "), describe(n))
		}
		return
	}
	switch t {
	case reflect.TypeFor[SDK]():
		if name, ok := presetName(n); ok {
			if s, ok := SDKPreset(name); ok {
				d.startFrom(v, reflect.ValueOf(s))
			}
		}
	case reflect.TypeFor[Network]():
		if name, ok := presetName(n); ok {
			if s, ok := NetworkPreset(name); ok {
				d.startFrom(v, reflect.ValueOf(s))
			}
		}
	}
	seen := map[string]int{}
	var unknown []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if d.nodes++; d.nodes > maxNodes { // keys count too: a million unknown keys stop here
			d.fail(k.Line, path, "the profile expands to more than %d YAML nodes (aliases followed): too large", maxNodes)
			d.more += (len(n.Content) - i) / 2
			break
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			if k.ShortTag() == "!!merge" {
				d.fail(k.Line, path, "YAML merge keys (<<) are not supported: write the fields out")
			} else {
				d.fail(k.Line, path, "a field name must be a plain word such as %q, got %s", fieldNames(t)[0], describe(k))
			}
			continue
		}
		key := k.Value
		fp := join(path, key)
		if first, dup := seen[key]; dup {
			d.fail(k.Line, fp, "given twice (first on line %d)", first)
			continue
		}
		seen[key] = k.Line
		d.lines[fp] = k.Line
		idx, ok := fieldIndex(t, key)
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		d.value(val, fp, v.Field(idx))
	}
	// Reported after the known fields, so an event's type is known.
	for _, k := range unknown {
		d.unknown(k.Line, join(path, k.Value), k.Value, t, v)
	}
	if t == reflect.TypeFor[Event]() {
		d.eventKeys(n, path, v.Interface().(Event))
	}
}

// presetName finds the scalar preset field of a section mapping.
func presetName(n *yaml.Node) (string, bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, val := n.Content[i], n.Content[i+1]; k.Kind == yaml.ScalarNode && k.Value == "preset" {
			if val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			if val.Kind == yaml.ScalarNode && !isNull(val) {
				return val.Value, true
			}
		}
	}
	return "", false
}

// unknown reports a field the section does not have.
func (d *decoder) unknown(line int, path, key string, t reflect.Type, v reflect.Value) {
	if len(d.errs) >= 4*MaxProblems {
		d.fail(line, path, "unknown field") // only counted
		return
	}
	allowed := fieldNames(t)
	where := "fields of " + parent(path)
	switch {
	case parent(path) == "":
		where = "profile fields"
	case t == reflect.TypeFor[Threshold]():
		where = "threshold fields"
	case t == reflect.TypeFor[Event]():
		where = "event fields"
		if typ := v.Interface().(Event).Type; EventFields(typ) != nil {
			allowed = append([]string{"type", "at"}, EventFields(typ)...)
			where = "fields of " + anEvent(typ) + " event"
		}
	}
	hint := ""
	if s := closest(key, fieldNames(t)); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.fail(line, path, "unknown field%s; %s: %s", hint, where, strings.Join(allowed, ", "))
}

// eventKeys checks the fields an event gives against its type: at is
// required, and a field of another type is an error even at its zero value.
func (d *decoder) eventKeys(n *yaml.Node, path string, e Event) {
	allowed := EventFields(e.Type)
	hasAt := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key := k.Value
		hasAt = hasAt || key == "at"
		if _, field := fieldIndex(reflect.TypeFor[Event](), key); allowed == nil || !field ||
			key == "type" || key == "at" || slices.Contains(allowed, key) {
			continue
		}
		d.fail(k.Line, join(path, key), "%s", notForType(e.Type))
	}
	if !hasAt {
		d.fail(n.Line, join(path, "at"), "is required: a simulated time from the start such as \"3m\", or a share of the run such as \"50%%\"")
	}
}

// sequence decodes a list node into the slice v (the events).
func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.SequenceNode {
		item := `"- type: ..."`
		if v.Type().Elem() == reflect.TypeFor[Threshold]() {
			item = `"- refresh.p99 < 250ms"`
		}
		d.fail(n.Line, path, "want a list (each item %s), got %s", item, describe(n))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type())) // "events: []" is no events, as in Default()
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, el := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		d.lines[ep] = el.Line
		item := reflect.New(v.Type().Elem()).Elem()
		d.value(el, ep, item)
		out = reflect.Append(out, item)
	}
	v.Set(out)
}

// scalar decodes a string, bool or number.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag == "!!null" {
		d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if tag != "!!str" && tag != "!!int" && tag != "!!float" {
			d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil || int64(int(i)) != i {
			d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		var u uint64
		if tag != "!!int" || n.Decode(&u) != nil {
			d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		v.SetUint(u)
	case reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n.Line, path, "cannot be read from YAML")
	}
}

// want says what a scalar field of kind k accepts.
func want(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Uint64:
		return "a whole number from 0 to 18446744073709551615"
	case reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	}
	return "a value"
}

// duration decodes a Go duration string; it reports whether it did.
func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) bool {
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode && (tag == "!!str" || tag == "!!int" || tag == "!!float") {
		if dv, err := time.ParseDuration(strings.TrimSpace(n.Value)); err == nil {
			v.SetInt(int64(dv))
			return true
		}
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && (tag == "!!int" || tag == "!!float") {
		hint = fmt.Sprintf(` (a number needs a unit: "%ss")`, n.Value)
	}
	d.fail(n.Line, path, `want a Go duration such as "90s", "5m" or "1h30m", got %s%s`, describe(n), hint)
	return false
}

// at decodes an event time: a duration or a share of the run.
func (d *decoder) at(n *yaml.Node, path string, v reflect.Value) {
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode && (tag == "!!str" || tag == "!!int" || tag == "!!float") {
		a, err := ParseAt(n.Value)
		if err == nil {
			v.Set(reflect.ValueOf(a))
			return
		}
		d.fail(n.Line, path, "%v", err)
		return
	}
	d.fail(n.Line, path, `want a simulated time such as "3m" or a share of the run such as "50%%", got %s`, describe(n))
}

// suppressed reports whether a validation problem is about a field whose
// value could not be read (its default is not the user's mistake).
func (d *decoder) suppressed(fe *FieldError) bool {
	for _, p := range append([]string{fe.Path}, fe.related...) {
		for ; p != ""; p = parent(p) {
			if d.failed[p] {
				return true
			}
		}
	}
	return false
}

// locate fills in the file and line of a validation problem: the field's
// own line, else that of a field the rule involves, else that of the
// nearest enclosing section's preset or the section itself.
func (d *decoder) locate(fe *FieldError) {
	fe.File = d.file
	for _, p := range append([]string{fe.Path}, fe.related...) {
		if l, ok := d.lines[p]; ok {
			fe.Line = l
			return
		}
	}
	for p := parent(fe.Path); p != ""; p = parent(p) {
		if l, ok := d.lines[join(p, "preset")]; ok {
			fe.Line = l
			return
		}
		if l, ok := d.lines[p]; ok {
			fe.Line = l
			return
		}
	}
}

// joined returns the problems in file order, each once: the first
// MaxProblems, then how many more there are.
func (d *decoder) joined() error {
	slices.SortStableFunc(d.errs, func(a, b *FieldError) int {
		return cmp.Compare(lineKey(a.Line), lineKey(b.Line))
	})
	var errs []error
	seen := map[string]bool{}
	more := d.more
	for _, fe := range d.errs {
		if s := fe.Error(); !seen[s] {
			seen[s] = true
			if len(errs) == MaxProblems {
				more++
				continue
			}
			errs = append(errs, fe)
		}
	}
	if more > 0 {
		errs = append(errs, &FieldError{File: d.file, InFile: true,
			Message: fmt.Sprintf("and %d more problems (the first %d are listed)", more, MaxProblems)})
	}
	return errors.Join(errs...)
}

// lineKey orders problems without a line after those with one.
func lineKey(line int) int {
	if line <= 0 {
		return math.MaxInt
	}
	return line
}

// closest returns the name a mistyped key most likely meant: one edit
// away (a transposition counts as one), or two for keys of five letters
// or more; "" when none is that close.
func closest(s string, names []string) string {
	limit := 1
	if len(s) >= 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, n := range names {
		if dist := editDistance(s, n); dist < bestD {
			best, bestD = n, dist
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and adjacent transpositions.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j-1]+c, d[i-1][j]+1, d[i][j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
