package sim

// event is one entry of the simulator's event heap: something due at At
// (nanoseconds of virtual time from the run's start). Seq breaks ties in
// the order events were scheduled, so that a run is deterministic.
type event struct {
	at   int64
	seq  uint64
	ref  uint32 // a request's index, or a fleet step's
	gen  uint32 // the request's generation when scheduled
	kind evKind
}

// evKind says what an event does.
type evKind uint8

const (
	evArrive  evKind = iota + 1 // a request reaches its endpoint
	evAdmit                     // a request passed the token faults' latency and asks for a server
	evDone                      // a server finished a request
	evCheck                     // a queued request's wait ran out (queue_wait or its client's timeout)
	evTimeout                   // a request's client gave up
	evFleet                     // a fleet event's backend step
	evSample                    // close a timeline bucket
)

// events is a binary min-heap by (at, seq).
type events []event

func (h events) less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}

func (h *events) push(e event) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *events) pop() event {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if l+1 < len(s) && s.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
