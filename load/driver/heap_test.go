package driver

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestDeadlinesPopInTimeThenFleetOrder pushes deadlines spread over
// several turns of the wheel, some at the same instant, some earlier than
// the cursor after it moved, popping between pushes, and checks every pop
// is the least held by (time, slot), as a plain search finds it.
func TestDeadlinesPopInTimeThenFleetOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var w deadlines
	var ref []deadline
	add := func(d deadline) {
		w.push(d)
		ref = append(ref, d)
	}
	least := func() int {
		m := 0
		for i, d := range ref {
			if d.before(ref[m]) {
				m = i
			}
		}
		return m
	}
	spans := []int64{int64(time.Microsecond), int64(time.Second), int64(10 * time.Minute), int64(3 * time.Hour)}
	pops := 0
	for round := range 20 {
		base := int64(round) * int64(time.Minute)
		for range 500 {
			span := spans[rng.IntN(len(spans))]
			add(deadline{at: base + rng.Int64N(span), slot: int32(rng.IntN(50))})
		}
		for _, s := range []int32{7, 3, 5} { // the same instant, out of fleet order
			add(deadline{at: base + int64(time.Second), slot: s})
		}
		n := 300
		if round == 19 {
			n = len(ref)
		}
		for range n {
			e, ok := w.peek()
			if !ok {
				t.Fatal("peek found nothing with deadlines held")
			}
			if p := w.pop(); p != e {
				t.Fatalf("pop %+v after peek %+v", p, e)
			}
			m := least()
			if e != ref[m] {
				t.Fatalf("pop %d: got %+v, want %+v", pops, e, ref[m])
			}
			ref = slices.Delete(ref, m, m+1)
			pops++
		}
	}
	if _, ok := w.peek(); ok {
		t.Fatal("the wheel holds deadlines after every one was popped")
	}
}

// TestDeadlinesEarlierThanTheCursor: a push earlier than the deadline the
// cursor stands on comes out first, as the live engine needs when a
// timer is set before the next deadline it waits for.
func TestDeadlinesEarlierThanTheCursor(t *testing.T) {
	var w deadlines
	w.push(deadline{at: int64(5 * time.Hour), slot: 1})
	if e, _ := w.peek(); e.slot != 1 {
		t.Fatalf("peek = %+v", e)
	}
	w.push(deadline{at: int64(time.Millisecond), slot: 2})
	w.push(deadline{at: -int64(time.Second), slot: 3})
	for _, want := range []int32{3, 2, 1} {
		if e := w.pop(); e.slot != want {
			t.Fatalf("popped slot %d, want %d", e.slot, want)
		}
	}
	if _, ok := w.peek(); ok {
		t.Fatal("an empty wheel has a deadline")
	}
	w.push(deadline{at: 1, slot: 4})
	w.reset()
	if _, ok := w.peek(); ok {
		t.Fatal("a reset wheel has a deadline")
	}
}

// TestDeadlinesWithSupersedesMatchASortedReference drives the wheel as the
// driver does: each slot has one deadline that counts (due), a new one
// supersedes it and leaves the old entry in the wheel to be skipped, a
// slot may come back to an instant it held before, and pushes land behind
// the cursor, at the instant just popped, before the run's start and
// turns ahead. What comes out, skipping superseded entries as Driver.Next
// does, must be the counted deadlines in (time, slot) order, as sorting
// them finds.
func TestDeadlinesWithSupersedesMatchASortedReference(t *testing.T) {
	const slots = 64
	turn := int64(wheelSize) << wheelShift
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var w deadlines
		due := make([]int64, slots)
		for i := range due {
			due[i] = noDue
		}
		var now int64 // the last instant popped
		set := func(slot int32, at int64) {
			if due[slot] == at {
				return
			}
			due[slot] = at
			w.push(deadline{at: at, slot: slot})
		}
		for step := range 3000 {
			for range rng.IntN(4) {
				slot := int32(rng.IntN(slots))
				var at int64
				switch rng.IntN(7) {
				case 0:
					at = now // the instant just popped
				case 1:
					at = now - rng.Int64N(int64(time.Second)) // in the past, behind the cursor
				case 2:
					at = now + rng.Int64N(3*turn) // turns ahead
				case 3:
					if due[slot] != noDue {
						at = due[slot] + rng.Int64N(3) - 1 // nanoseconds from its own
					}
				case 4:
					at = -rng.Int64N(int64(time.Minute)) // before the start
				default:
					at = now + rng.Int64N(int64(50*time.Millisecond))
				}
				set(slot, at)
			}
			// The reference: the counted deadlines, least first.
			var ref []deadline
			for s, at := range due {
				if at != noDue {
					ref = append(ref, deadline{at: at, slot: int32(s)})
				}
			}
			slices.SortFunc(ref, func(a, b deadline) int {
				if a.before(b) {
					return -1
				}
				if b.before(a) {
					return 1
				}
				return 0
			})
			for range rng.IntN(4) {
				var e deadline
				found := false
				for {
					var ok bool
					if e, ok = w.peek(); !ok {
						break
					}
					if e.at == due[e.slot] {
						found = true
						break
					}
					w.pop() // superseded
				}
				if found != (len(ref) > 0) {
					t.Fatalf("seed %d step %d: found %v with %d deadlines counted", seed, step, found, len(ref))
				}
				if !found {
					break
				}
				if e != ref[0] {
					t.Fatalf("seed %d step %d: the wheel's earliest is %+v, the reference's %+v", seed, step, e, ref[0])
				}
				w.pop()
				due[e.slot] = noDue
				now = e.at
				ref = ref[1:]
			}
		}
	}
}
