package load

import (
	"testing"

	"github.com/stampede-load/stampede/chaos/backend"
	"github.com/stampede-load/stampede/reports"
)

// expiry-dev promises expired and abandoned sign-outs apart, in the
// proportions its gaps give: a session starts a 2-minute foreground stint,
// then a gap of 1 minute, 6 minutes or 3 hours, each as likely. A long
// gap first (2 in 3) abandons it; a 1-minute gap first lets it reach its
// 5th minute, and it expires (1 in 3).
func TestExpiryDevShowsExpiredAndAbandonedApart(t *testing.T) {
	p := scaledDown(t, "expiry-dev", 200)
	res, _ := runFake(t, p, nil)
	checkBooks(t, &res)
	by := res.Sessions.ForcedSignoutsByCause
	abandoned, expired := by["session_abandoned"], by["session_expired"]
	t.Logf("forced sign-outs by cause %v, by status %v, re-sign-ins %d", by, res.Sessions.ByStatus, res.Sessions.ReSignIns)
	if abandoned == 0 || expired == 0 {
		t.Fatalf("abandoned %d, expired %d: want both", abandoned, expired)
	}
	share := float64(abandoned) / float64(abandoned+expired)
	if share < 2.0/3-0.1 || share > 2.0/3+0.1 {
		t.Errorf("abandoned share %.2f of %d, want 2/3 ± 0.1 (a long gap after the first stint)", share, abandoned+expired)
	}
	if other := res.Sessions.ForcedSignouts - abandoned - expired; other != 0 {
		t.Errorf("%d forced sign-outs of other causes %v", other, by)
	}
}

// clerk-expo promises what the article predicts of the clerk SDK in an
// Expo app: offline getToken fails fast with network_error, pending
// sessions look signed out and are replaced by a new sign-in, ended
// sessions sign the app out, and about 3 in 10 browser sign-ins are
// dismissed by users who leave.
func TestClerkExpoShowsWhatTheArticlePredicts(t *testing.T) {
	p := scaledDown(t, "clerk-expo", 300)
	res, st := runFake(t, p, nil)
	checkBooks(t, &res)
	s := res.Sessions
	t.Logf("sessions %+v; backend %v; get_token errors %v", s, st.Sessions, res.Ops[reports.OpGetToken].Errors)
	if n := res.Ops[reports.OpGetToken].Errors["network"]; n == 0 {
		t.Error("no getToken network_error while offline")
	}
	if s.ForcedSignoutsByCause["session_pending"] == 0 || st.Sessions[backend.SessionReplaced] == 0 {
		t.Errorf("pending: forced sign-outs %d, replaced sessions %d; want both", s.ForcedSignoutsByCause["session_pending"], st.Sessions[backend.SessionReplaced])
	}
	if s.ForcedSignoutsByCause["session_ended"] == 0 {
		t.Error("no session_ended sign-out after session_end")
	}
	started := s.SignInsCancelled + s.SignInFlowFailures + s.ReSignIns
	share := float64(s.SignInsCancelled) / float64(started)
	if started < 30 || share < 0.15 || share > 0.45 {
		t.Errorf("%d of %d sign-in flows cancelled (%.2f), want about 0.3", s.SignInsCancelled, started, share)
	}
	if s.ByStatus["sign_in_cancelled"] != s.SignInsCancelled {
		t.Errorf("status sign_in_cancelled %d, cancelled %d: every user who cancelled left", s.ByStatus["sign_in_cancelled"], s.SignInsCancelled)
	}
}
