package driver

// deadline is one entry of a driver's deadlines: the client in slot is due
// at at (nanoseconds from the run's start).
type deadline struct {
	at   int64
	slot int32
}

// before orders deadlines by time, then by the client's slot: clients due
// at the same instant run in fleet order.
func (a deadline) before(b deadline) bool {
	return a.at < b.at || a.at == b.at && a.slot < b.slot
}

// Bucket width and count of the deadlines' timing wheel: about 1 ms per
// bucket, 65,536 buckets (about 69 s) per turn.
const (
	wheelShift = 20
	wheelSize  = 1 << 16
	wheelMask  = wheelSize - 1
)

// deadlines is a timing wheel (a calendar queue) of deadlines keyed on
// time: each bucket holds the deadlines of about a millisecond, of this
// turn of the wheel and of later ones, as a small binary min-heap. Push is
// a push into a small heap and the earliest deadline is found by moving a
// cursor forward over the buckets, so a fleet of millions pays neither a
// heap as deep as the fleet nor its cache misses.
type deadlines struct {
	buckets [][]deadline
	cur     int64 // the absolute bucket the cursor is at: none earlier holds a deadline
	n       int
}

func (w *deadlines) push(d deadline) {
	if w.buckets == nil {
		w.buckets = make([][]deadline, wheelSize)
		w.cur = d.at >> wheelShift
	}
	ab := d.at >> wheelShift
	if w.n == 0 || ab < w.cur {
		w.cur = ab
	}
	b := &w.buckets[ab&wheelMask]
	*b = append(*b, d)
	s := *b
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	w.n++
}

// peek moves the cursor to the earliest deadline and returns it; false
// when there is none.
func (w *deadlines) peek() (deadline, bool) {
	if w.n == 0 {
		return deadline{}, false
	}
	for scanned := 0; ; scanned++ {
		if s := w.buckets[w.cur&wheelMask]; len(s) > 0 && s[0].at>>wheelShift <= w.cur {
			return s[0], true
		}
		if scanned == wheelSize { // every deadline is turns ahead: jump to the earliest
			w.cur = w.earliestBucket()
			scanned = 0
			continue
		}
		w.cur++
	}
}

// earliestBucket is the absolute bucket of the earliest deadline held.
func (w *deadlines) earliestBucket() int64 {
	first, found := int64(0), false
	for _, s := range w.buckets {
		if len(s) > 0 && (!found || s[0].at>>wheelShift < first) {
			first, found = s[0].at>>wheelShift, true
		}
	}
	return first
}

// pop removes and returns the earliest deadline; call it after a peek
// that found one.
func (w *deadlines) pop() deadline {
	top, _ := w.peek()
	b := &w.buckets[w.cur&wheelMask]
	s := *b
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].before(s[m]) {
			m = l
		}
		if l+1 < len(s) && s[l+1].before(s[m]) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	switch c := cap(s); {
	case last == 0:
		s = nil // an empty bucket holds no room: a small fleet's wheel stays small
	case c > 64 && len(s) < c/8:
		// A burst (a fleet due at one instant) is over: give its room back.
		s = append(make([]deadline, 0, 2*len(s)), s...)
	}
	*b = s
	w.n--
	return top
}

// reset empties the wheel.
func (w *deadlines) reset() {
	clear(w.buckets)
	w.n = 0
}
