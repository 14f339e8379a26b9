package load

import "testing"

// TestSenderMakesTheRequestItsAnswerStartsUnlessOthersWait: after an
// answer, its sender makes the request that answer started when nothing
// is queued, with no hand-off; when requests wait, it takes the oldest and
// the new one waits behind them, so the pool stays first come, first
// served.
func TestSenderMakesTheRequestItsAnswerStartsUnlessOthersWait(t *testing.T) {
	s := newSenders(1)
	own := job{client: 7}
	if got := s.after(own); got.client != 7 {
		t.Fatalf("nothing queued: the sender makes client %d's request, want client 7's", got.client)
	}
	if s.queuedTotal() != 0 {
		t.Errorf("nothing queued: %d requests counted as waiting, want 0", s.queuedTotal())
	}

	s.spawned = s.max // every sender busy: submissions queue
	s.submit(job{client: 1})
	s.submit(job{client: 2})
	if got := s.after(own); got.client != 1 {
		t.Fatalf("two queued: the sender makes client %d's request, want the oldest, client 1's", got.client)
	}
	var order []int
	for {
		j, ok := s.next()
		if !ok {
			break
		}
		order = append(order, j.client)
	}
	if len(order) != 2 || order[0] != 2 || order[1] != 7 {
		t.Errorf("queue after: clients %v, want [2 7] (the new request behind the older one)", order)
	}
	if s.queuedTotal() != 3 {
		t.Errorf("%d requests counted as waiting, want 3", s.queuedTotal())
	}
}
