package record

import "github.com/stampede-load/stampede/reports"

// signInCounts are a shard's counts of how sessions ended and how users
// signed in again: forced sign-outs by cause, cancelled sign-in flows and
// failed ones.
type signInCounts struct {
	byCause    map[string]int64
	cancelled  int64
	flowFailed int64
}

// forced counts a forced sign-out whose answer said code ("" when none).
func (s *signInCounts) forced(code string) {
	if code == "" {
		code = "signed_out"
	}
	if s.byCause == nil {
		s.byCause = map[string]int64{}
	}
	s.byCause[code]++
}

func (s *signInCounts) add(o signInCounts) {
	for k, v := range o.byCause {
		if s.byCause == nil {
			s.byCause = map[string]int64{}
		}
		s.byCause[k] += v
	}
	s.cancelled += o.cancelled
	s.flowFailed += o.flowFailed
}

// fill writes the counts into res.
func (s *signInCounts) fill(res *reports.Sessions) {
	if len(s.byCause) > 0 {
		res.ForcedSignoutsByCause = s.byCause
	}
	res.SignInsCancelled, res.SignInFlowFailures = s.cancelled, s.flowFailed
}
