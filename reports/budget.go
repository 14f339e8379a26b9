package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidBudget is returned (wrapped) for a budget file compare cannot use.
var ErrInvalidBudget = errors.New("invalid budget")

// Budget is a team's regression gate, written once: a default relative
// limit and rules per metric. docs/compare.md describes the file.
//
//	max_change: 5%            # default relative limit (overrides --max-regression)
//	metrics:
//	  refresh.p99: {max_change: 3%, floor: 2ms}
//	  "*.max": off            # not gated, not shown as a verdict
//	  sign_in.max: {gate: true, max_change: 50%}
//	  api.error_rate: {floor: 0.5%}
//	  herd.peak_to_mean: {floor: 0.5}
type Budget struct {
	// File is where the budget was read from.
	File string
	// MaxChange is the default relative limit (a fraction), if given.
	MaxChange *float64
	// Rules in file order.
	Rules []BudgetRule
}

// BudgetRule is what the budget says about the metrics a pattern names.
type BudgetRule struct {
	// Pattern is a metric name or a path.Match pattern over names
	// ("*.max", "refresh.*").
	Pattern string
	Line    int
	// Off: neither gated nor judged.
	Off bool
	// Gate: gated even when it is informational by default (maximums).
	Gate bool
	// MaxChange is the relative limit (a fraction), Floor the absolute
	// floor in the metric's unit (ms, percentage points, or a plain number).
	MaxChange *float64
	Floor     *float64
}

// rule returns the rule for a metric: one naming it exactly, else the
// first pattern in the file that matches it.
func (b *Budget) rule(name string) *BudgetRule {
	if b == nil {
		return nil
	}
	for i := range b.Rules {
		if b.Rules[i].Pattern == name {
			return &b.Rules[i]
		}
	}
	for i := range b.Rules {
		if ok, _ := path.Match(b.Rules[i].Pattern, name); ok {
			return &b.Rules[i]
		}
	}
	return nil
}

// namesExactly reports whether the budget gates name by its exact name.
func (b *Budget) namesExactly(name string) bool {
	if b == nil {
		return false
	}
	for _, r := range b.Rules {
		if r.Pattern == name && !r.Off {
			return true
		}
	}
	return false
}

// BudgetError is a problem in a budget file at a line and field.
type BudgetError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *BudgetError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

func (e *BudgetError) Unwrap() error { return ErrInvalidBudget }

// ReadBudget reads and checks a budget file.
func ReadBudget(file string) (*Budget, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("budget: %w", err)
	}
	return ParseBudget(file, b)
}

// ParseBudget parses a budget; an error is a *BudgetError naming the file,
// line and field.
func ParseBudget(file string, src []byte) (*Budget, error) {
	bad := func(n *yaml.Node, field, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &BudgetError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, bad(nil, "", "empty budget: want max_change and/or metrics")
		}
		line := 0
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line)
		}
		return nil, &BudgetError{File: file, Line: line, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, bad(root, "", "want a mapping with max_change and/or metrics")
	}
	bud := &Budget{File: file}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "max_change":
			f, err := parseChange(v)
			if err != nil {
				return nil, bad(v, "max_change", "%s", err)
			}
			bud.MaxChange = &f
		case "metrics":
			if v.Kind != yaml.MappingNode {
				return nil, bad(v, "metrics", "want a mapping of metric → rule")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				r, err := parseRule(v.Content[j], v.Content[j+1], bad)
				if err != nil {
					return nil, err
				}
				bud.Rules = append(bud.Rules, r)
			}
		default:
			return nil, bad(k, k.Value, "unknown field (want max_change or metrics)")
		}
	}
	return bud, nil
}

// parseRule reads one "metric: rule" entry.
func parseRule(k, v *yaml.Node, bad func(*yaml.Node, string, string, ...any) error) (BudgetRule, error) {
	name := k.Value
	field := "metrics." + name
	r := BudgetRule{Pattern: name, Line: k.Line}
	kinds := map[string]bool{}
	for _, m := range CompareMetricNames() {
		if ok, err := path.Match(name, m); err == nil && ok {
			kind, _ := metricKind(m)
			kinds[kind] = true
		}
	}
	if len(kinds) == 0 {
		return r, bad(k, field, "no such metric (want one of %s, or a pattern such as \"*.max\")", strings.Join(CompareMetricNames()[:5], ", ")+", …, herd.peak_to_mean, herd.amplification, requests.lost, sessions.forced_signouts")
	}
	switch v.Kind {
	case yaml.ScalarNode:
		switch v.Value {
		case "off":
			r.Off = true
		case "gate", "on":
			r.Gate = true
		default:
			f, err := parseChange(v)
			if err != nil {
				return r, bad(v, field, `want "off", "gate", an allowed change such as "5%%", or a mapping with max_change, floor, gate`)
			}
			r.MaxChange = &f
		}
		return r, nil
	case yaml.MappingNode:
	default:
		return r, bad(v, field, `want "off", "gate", an allowed change such as "5%%", or a mapping with max_change, floor, gate`)
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		fk, fv := v.Content[i], v.Content[i+1]
		ff := field + "." + fk.Value
		switch fk.Value {
		case "max_change":
			f, err := parseChange(fv)
			if err != nil {
				return r, bad(fv, ff, "%s", err)
			}
			r.MaxChange = &f
		case "floor":
			if len(kinds) > 1 {
				return r, bad(fv, ff, "the pattern matches metrics of different units (%s): give floors per kind", strings.Join(sortedKeys(kinds), ", "))
			}
			var kind string
			for kk := range kinds {
				kind = kk
			}
			f, err := parseFloor(fv.Value, kind)
			if err != nil {
				return r, bad(fv, ff, "%s", err)
			}
			r.Floor = &f
		case "gate":
			g, err := strconv.ParseBool(fv.Value)
			if err != nil {
				return r, bad(fv, ff, "want true or false, got %q", fv.Value)
			}
			r.Gate = g
		case "off":
			o, err := strconv.ParseBool(fv.Value)
			if err != nil {
				return r, bad(fv, ff, "want true or false, got %q", fv.Value)
			}
			r.Off = o
		default:
			return r, bad(fk, ff, "unknown field (want max_change, floor, gate or off)")
		}
	}
	return r, nil
}

// parseChange reads a relative limit: "10%" or a fraction such as "0.1".
func parseChange(n *yaml.Node) (float64, error) {
	return ParseRelativeLimit(n.Value)
}

// ParseRelativeLimit reads a tolerated change as a fraction: "10%" is 0.1,
// and so is "0.1". A bare number above 1 is refused as ambiguous ("10"
// could mean 10% or 1000%); write it with a percent sign.
func ParseRelativeLimit(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf(`want a percentage such as "10%%" or a fraction such as "0.1", got %q`, s)
	}
	if isPct {
		v /= 100
	} else if v > 1 {
		return 0, fmt.Errorf(`%q is ambiguous: write "%s%%" for %s percent, or a fraction such as "0.1"`, s, t, t)
	}
	if v < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", s)
	}
	return v, nil
}

// parseFloor reads a floor in the unit of kind: a duration for latencies
// (returned in ms), percentage points for rates ("0.5%" or 0.5), a plain
// number otherwise.
func parseFloor(s, kind string) (float64, error) {
	s = strings.TrimSpace(s)
	var v float64
	var err error
	switch kind {
	case MetricLatency, MetricMax:
		var d time.Duration
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf(`want a duration such as "2ms", got %q`, s)
		}
		v = float64(d) / float64(time.Millisecond)
	case MetricRate:
		v, err = strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
		if err != nil {
			return 0, fmt.Errorf(`want percentage points such as "0.5%%", got %q`, s)
		}
	default:
		v, err = strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("want a number, got %q", s)
		}
	}
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("must be a finite number ≥ 0, got %q", s)
	}
	return v, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
