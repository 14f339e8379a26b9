package model

import "time"

// CallState says where an API call stands, or what the 401 interceptor
// was doing when a call was retried: the evidence a failing invariant
// shows (docs/results.md#invariants).
type CallState uint8

// Call states. The zero value is CallIdle.
const (
	// CallIdle: the interceptor had no refresh of its own running.
	CallIdle CallState = iota
	// CallRefreshing: the interceptor's refresh was running (isRefreshing set).
	CallRefreshing
	// CallStuck: the interceptor's flag was never reset after a failed refresh.
	CallStuck
	// CallRetryNoFlag: a call already retried after a 401 was retried
	// again: the interceptor keeps no retry flag.
	CallRetryNoFlag
	// CallReplayingQueue: the interceptor replayed its queue after the
	// refresh with the tokens the queued calls first carried.
	CallReplayingQueue
	// CallQueuedStuck: queued behind an interceptor flag never reset.
	CallQueuedStuck
	// CallQueued: queued behind the interceptor's refresh.
	CallQueued
	// CallDropped: dropped from the interceptor queue when its refresh failed.
	CallDropped
	// CallDroppedKilled: dropped with the interceptor queue when the app was killed.
	CallDroppedKilled
	// CallWaitingToken: waiting for a token (getToken).
	CallWaitingToken
	// CallInFlight: its HTTP request was in flight.
	CallInFlight
	numCallStates
)

var callStateNames = [numCallStates]string{
	"idle: no interceptor refresh running",
	"refreshing: the interceptor's refresh running (isRefreshing set)",
	"stuck: isRefreshing never reset after a failed refresh",
	"retrying a call already retried: no retry flag",
	"replaying its queue with the tokens the calls first carried",
	"queued behind an interceptor flag never reset",
	"queued behind the interceptor's refresh",
	"dropped from the interceptor queue when its refresh failed",
	"dropped with the interceptor queue when the app was killed",
	"waiting for a token",
	"in flight",
}

// String describes the state in a few words, for reports.
func (s CallState) String() string {
	if s < numCallStates {
		return callStateNames[s]
	}
	return "state?"
}

// MaxDroppedKept is how many calls a client keeps a copy of when it drops
// them unsettled (Client.Unsettled): the first ones; the rest are counted.
const MaxDroppedKept = 3

// UnsettledCall is an API call the app issued and has not settled.
type UnsettledCall struct {
	// Issued is when the app issued it (device time).
	Issued time.Time
	// TokenSeq is the generation of the token its last attempt carried
	// (0: none yet); NewestSeq the client's newest token generation.
	TokenSeq, NewestSeq uint64
	// Retries counts its retries after a 401.
	Retries int
	// State says where it is stuck.
	State CallState
}

// Unsettled lists the API calls the client has not settled: those still
// waiting, queued or in flight, and the first MaxDroppedKept of the calls
// it dropped (Lost counts them all). After EvStop and the answers to its
// requests in flight, it lists the calls the run lost.
func (c *Client) Unsettled() []UnsettledCall {
	var out []UnsettledCall
	add := func(call apiCall, s CallState) {
		out = append(out, UnsettledCall{Issued: call.intended, TokenSeq: call.tokenSeq, NewestSeq: c.tokenSeq,
			Retries: int(call.retries), State: s})
	}
	iq := c.iq
	if iq == nil {
		iq = &interceptorQueues{}
	}
	out = append(out, iq.dropped...)
	for i := range out {
		out[i].NewestSeq = c.tokenSeq
	}
	qs := CallQueued
	if c.stuck {
		qs = CallQueuedStuck
	}
	for _, call := range iq.iqueue {
		add(call, qs)
	}
	for _, call := range c.waiting {
		add(call, CallWaitingToken)
	}
	for _, call := range c.inflight {
		add(call, CallInFlight)
	}
	for _, f := range iq.private {
		add(f.call, CallRefreshing)
	}
	return out
}

// TokenSeq is the generation of the client's newest session token: 0
// before the first, one more with every token received.
func (c *Client) TokenSeq() uint64 { return c.tokenSeq }

// InterceptorState is what the 401 interceptor is doing: CallIdle,
// CallRefreshing or CallStuck.
func (c *Client) InterceptorState() CallState {
	switch {
	case c.stuck:
		return CallStuck
	case c.irefreshing || (c.iq != nil && len(c.iq.private) > 0):
		return CallRefreshing
	}
	return CallIdle
}

// drop counts calls dropped unsettled and keeps a copy of the first few.
func (c *Client) drop(calls []apiCall, s CallState) {
	if len(calls) == 0 {
		return
	}
	q := c.queues()
	q.orphans += len(calls)
	for _, call := range calls {
		if len(q.dropped) >= MaxDroppedKept {
			return
		}
		q.dropped = append(q.dropped, UnsettledCall{Issued: call.intended, TokenSeq: call.tokenSeq,
			Retries: int(call.retries), State: s})
	}
}
