package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strings"
)

// MaxResultBytes bounds a result.json read by report, compare and merge
// (docs/results.md#limits): reading stops there.
const MaxResultBytes = 128 << 20

// MaxShards bounds a run's shard count (--shard i/n) and the shard count a
// result may claim.
const MaxShards = 100_000

// maxListed is how many items (missing shards, problems) a message lists
// before it counts the rest.
const maxListed = 10

// checkFigures reports the figures of r no run could have written: an
// operation whose count is not ok + errors, a negative count, latency,
// client or timeline figure, a shard out of bounds. Every problem is
// returned, at most maxListed of them named.
func checkFigures(r *Result) []error {
	var errs []error
	for _, name := range slices.Sorted(mapsKeys(r.Ops)) {
		o := r.Ops[name]
		if o == nil {
			continue
		}
		var sum int64
		overflow := false
		for _, v := range o.Errors {
			if v < 0 {
				continue // said below
			}
			s, carry := bits.Add64(uint64(sum), uint64(v), 0)
			if carry != 0 || s > math.MaxInt64 {
				overflow = true
			}
			sum = int64(s)
		}
		total, carry := bits.Add64(uint64(o.OK), uint64(sum), 0)
		switch {
		case o.OK < 0 || o.Count < 0: // negatives says so
		case overflow || carry != 0 || total > math.MaxInt64:
			errs = append(errs, fmt.Errorf("ops.%s: ok + errors overflow", name))
		case int64(total) != o.Count:
			errs = append(errs, fmt.Errorf("ops.%s: count %d is not ok %d + errors %d", name, o.Count, o.OK, sum))
		}
	}
	if r.Shard.Count < 0 || r.Shard.Count > MaxShards {
		errs = append(errs, fmt.Errorf("shard.count: must be from 1 to %d, got %d", MaxShards, r.Shard.Count))
	}
	for _, part := range []struct {
		name string
		v    any
	}{{"ops", r.Ops}, {"sessions", r.Sessions}, {"requests", r.Requests}, {"engine", r.Engine},
		{"herd", r.Herd}, {"events", r.Events}, {"timeline", r.Timeline}} {
		negatives(part.name, reflect.ValueOf(part.v), &errs)
	}
	if len(errs) > maxListed {
		n := len(errs) - maxListed
		errs = append(errs[:maxListed], fmt.Errorf("and %d more problems", n))
	}
	return errs
}

// negatives appends an error for each negative number under v, named by
// its JSON path; a non-finite float is reported too.
func negatives(path string, v reflect.Value, errs *[]error) {
	if len(*errs) > 4*maxListed {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			negatives(path, v.Elem(), errs)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			negatives(path+"."+name, v.Field(i), errs)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			negatives(path+"."+k.String(), v.MapIndex(k), errs)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			negatives(fmt.Sprintf("%s[%d]", path, i), v.Index(i), errs)
			if len(*errs) > 4*maxListed {
				return
			}
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if v.Int() < 0 {
			*errs = append(*errs, fmt.Errorf("%s: negative (%d)", path, v.Int()))
		}
	case reflect.Float64, reflect.Float32:
		if f := v.Float(); f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			*errs = append(*errs, fmt.Errorf("%s: negative or not finite (%g)", path, f))
		}
	}
}

// mapsKeys returns m's keys, for slices.Sorted.
func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkSums refuses a merge whose counters would overflow int64: it adds
// every integer of the results' counters (ops, sessions, requests, herd,
// engine, events, the timeline's series in total) exactly, per JSON path,
// before anything is merged. Results are validated on read, so every
// figure is non-negative and a sum that fits bounds every partial sum.
func checkSums(results []*Result) error {
	sums := map[string]uint64{}
	var over []string
	for _, r := range results {
		for _, part := range []struct {
			name string
			v    any
		}{{"ops", r.Ops}, {"sessions", r.Sessions}, {"requests", r.Requests}, {"engine", r.Engine},
			{"herd", r.Herd}, {"events", r.Events}, {"timeline", r.Timeline}} {
			b, err := json.Marshal(part.v)
			if err != nil {
				return err
			}
			var tree any
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			if err := dec.Decode(&tree); err != nil {
				return err
			}
			addInts(part.name, tree, sums, &over)
		}
	}
	if len(over) == 0 {
		return nil
	}
	slices.Sort(over)
	over = slices.Compact(over)
	more := ""
	if len(over) > maxListed {
		more = fmt.Sprintf(" and %d more", len(over)-maxListed)
		over = over[:maxListed]
	}
	return errors.New("the merged counts overflow a 64-bit integer: " + strings.Join(over, ", ") + more)
}

// addInts adds the non-negative integers under v into sums by path (the
// elements of a list into their list's path), noting the paths whose sum
// passes math.MaxInt64.
func addInts(path string, v any, sums map[string]uint64, over *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			addInts(path+"."+k, e, sums, over)
		}
	case []any:
		for _, e := range x {
			addInts(path, e, sums, over)
		}
	case json.Number:
		n, err := x.Int64()
		if err != nil || n < 0 {
			return
		}
		s, carry := bits.Add64(sums[path], uint64(n), 0)
		if carry != 0 || s > math.MaxInt64 {
			*over = append(*over, path)
			s = math.MaxInt64
		}
		sums[path] = s
	}
}
