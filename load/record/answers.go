package record

import (
	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/reports"
)

// answerKey is one kind of failed answer: what the server said.
type answerKey struct {
	class  model.ErrorClass
	status int
	code   string
}

// answerCount is how many answers of one kind a shard saw, and the sample
// body of the first.
type answerCount struct {
	count  int64
	sample string
}

// errorAnswer counts a failed answer of operation o by class, status and
// code (docs/results.md#what-the-server-said).
func (r *Recorder) errorAnswer(sh int, o Op, class model.ErrorClass, status int, code, body string) {
	s := r.shards[sh]
	s.mu.Lock()
	s.addAnswer(o, class, status, code, body)
	s.mu.Unlock()
}

// addAnswer counts an answer under s's lock. A shard keeps at most
// reports.MaxErrorAnswers kinds per operation; answers of further kinds
// count under their class as reports.OtherAnswers, so the cost per answer
// stays one lookup in a small map.
func (s *shard) addAnswer(o Op, class model.ErrorClass, status int, code, body string) {
	m := s.answers[o]
	if m == nil {
		m = make(map[answerKey]*answerCount, 4)
		s.answers[o] = m
	}
	k := answerKey{class, status, code}
	a := m[k]
	if a == nil {
		if len(m) >= reports.MaxErrorAnswers {
			k = answerKey{class: class, code: reports.OtherAnswers}
			if a = m[k]; a == nil {
				a = &answerCount{}
				m[k] = a
			}
		} else {
			a = &answerCount{sample: reports.SampleBody([]byte(body))} // redacted once per kind
			m[k] = a
		}
	}
	a.count++
}

// errorAnswers is the reports form of one shard's answers of an operation.
func errorAnswers(m map[answerKey]*answerCount) []reports.ErrorAnswer {
	out := make([]reports.ErrorAnswer, 0, len(m))
	for k, a := range m {
		out = append(out, reports.ErrorAnswer{Class: k.class.String(), Status: k.status, Code: reports.RedactBody(k.code),
			Count: a.count, Sample: a.sample})
	}
	reports.SortErrorAnswers(out)
	return out
}
