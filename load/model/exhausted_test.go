package model

import (
	"testing"
	"time"
)

// TestCredentialsExhaustedStopsSigningIn: a sign-in answered with
// CodeCredentialsExhausted leaves the client signed out for good, in its
// own status: no sign-in timer, none on foreground return either.
func TestCredentialsExhaustedStopsSigningIn(t *testing.T) {
	cfg := cmConfig()
	c := NewClient(&cfg, 1, 0)
	acts := c.Step(cmT0, Event{Kind: EvStart, At: cmT0})
	if len(acts) != 1 || acts[0].Kind != ActSignIn {
		t.Fatalf("start: %+v", acts)
	}
	acts = c.Step(cmT0, Event{Kind: EvSignInDone, Req: acts[0].Req,
		Outcome: Outcome{Class: ClassOther, Status: 400, Code: CodeCredentialsExhausted}})
	for _, a := range acts {
		if a.Kind == ActSetTimer || a.Kind == ActSignIn {
			t.Errorf("exhausted client acts: %+v", a)
		}
	}
	if c.SessionStatus() != StatusCredentialsExhausted || !c.Exhausted() || c.Phase() != PhaseSignedOut {
		t.Errorf("status %s, phase %s", c.SessionStatus(), c.Phase())
	}
	c.Step(cmAt(time.Second), Event{Kind: EvBackground})
	for _, a := range c.Step(cmAt(time.Minute), Event{Kind: EvForeground}) {
		if a.Kind == ActSetTimer || a.Kind == ActSignIn {
			t.Errorf("foreground return acts: %+v", a)
		}
	}
	if acts := c.Step(cmAt(2*time.Minute), Event{Kind: EvTimer, Timer: TimerSignIn, At: cmAt(2 * time.Minute)}); len(acts) != 0 {
		t.Errorf("a stray sign-in timer acts: %+v", acts)
	}
}
