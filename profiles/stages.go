package profiles

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Stage is one step of a fleet that grows or shrinks over the run
// (docs/profiles.md#stages): over Ramp the fleet moves from the previous
// stage's size to Clients, clients joining (or leaving) in seeded slots
// as a ramp places them, then it holds Clients for Hold. Both are
// wall-clock time, like Ramp and Duration.
type Stage struct {
	Clients int      `json:"clients" yaml:"clients"`
	Ramp    Duration `json:"ramp" yaml:"ramp"`
	Hold    Duration `json:"hold" yaml:"hold"`
}

// How clients removed by a shrinking stage leave.
const (
	// StageLeaveGoAway: the app goes away (uninstalled, phone off): it
	// stops and its connections close; the server keeps its session.
	StageLeaveGoAway = "go_away"
	// StageLeaveSignOut: the user signs out: the session is ended through
	// the target's end endpoint, then the app stops.
	StageLeaveSignOut = "sign_out"
)

// MaxStages bounds the stages of a profile.
const MaxStages = 1000

// StagedClients is how many distinct clients the stages use: every client
// a growing stage adds is a new one (a new phone), so a fleet that shrinks
// and grows again adds fresh clients. 0 without stages.
func (p Profile) StagedClients() int {
	n, prev := 0, 0
	for _, s := range p.Stages {
		if s.Clients > prev {
			n += s.Clients - prev
		}
		prev = s.Clients
	}
	return n
}

// StagesSpan is the wall-clock time the stages take: every ramp and hold.
func (p Profile) StagesSpan() time.Duration {
	var d time.Duration
	for _, s := range p.Stages {
		d += s.Ramp.D() + s.Hold.D()
	}
	return d
}

// StageBounds are the stages' start offsets from the run's start, and
// the end of the last one: len(Stages)+1 values.
func (p Profile) StageBounds() []time.Duration {
	if len(p.Stages) == 0 {
		return nil
	}
	b := make([]time.Duration, 0, len(p.Stages)+1)
	var t time.Duration
	for _, s := range p.Stages {
		b = append(b, t)
		t += s.Ramp.D() + s.Hold.D()
	}
	return append(b, t)
}

// FitStages makes a profile with stages consistent with them: Clients is
// StagedClients, Duration StagesSpan and Ramp 0 (each stage has its own).
// A profile without stages is left as it is.
func (p *Profile) FitStages() {
	if len(p.Stages) == 0 {
		return
	}
	p.Clients = p.StagedClients()
	p.Duration = Duration(p.StagesSpan())
	p.Ramp = 0
}

// validateStages checks the stages and the way clients leave.
func (p Profile) validateStages(v *validator) {
	if p.StageLeave != "" {
		v.oneOf("stage_leave", p.StageLeave, []string{StageLeaveGoAway, StageLeaveSignOut})
	}
	if len(p.Stages) == 0 {
		return
	}
	if len(p.Stages) > MaxStages {
		v.bad("stages", "at most %d stages, got %d", MaxStages, len(p.Stages))
		return
	}
	for i, s := range p.Stages {
		path := fmt.Sprintf("stages[%d]", i)
		if s.Clients < 0 {
			v.bad(path+".clients", "must not be negative, got %d", s.Clients)
		}
		v.nonNegative(path+".ramp", s.Ramp)
		v.nonNegative(path+".hold", s.Hold)
		if s.Ramp+s.Hold <= 0 {
			v.bad(path+".hold", "a stage must last: ramp plus hold must be greater than 0")
		}
	}
	if n := p.StagedClients(); n > 0 && p.Clients != n {
		v.badRel("clients", []string{"stages"}, "is set by the stages (%d distinct clients), got %d: leave clients out of a staged profile", n, p.Clients)
	}
	if span := p.StagesSpan(); span > 0 && p.Duration.D() != span {
		v.badRel("duration", []string{"stages"}, "is set by the stages (%s), got %s: leave duration out of a staged profile", Duration(span), p.Duration)
	}
}

// ParseStages reads stages written as the --stages flag takes them:
// comma-separated CLIENTS:RAMP:HOLD, e.g. "200:10s:30s,400:10s:30s,0:5s:0s".
func ParseStages(s string) ([]Stage, error) {
	var out []Stage
	for i, part := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("stage %d %q: want CLIENTS:RAMP:HOLD such as 200:10s:30s", i+1, part)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("stage %d %q: clients must be a whole number of at least 0, got %q", i+1, part, f[0])
		}
		ramp, err := time.ParseDuration(f[1])
		if err != nil || ramp < 0 {
			return nil, fmt.Errorf("stage %d %q: ramp must be a duration such as 10s, got %q", i+1, part, f[1])
		}
		hold, err := time.ParseDuration(f[2])
		if err != nil || hold < 0 {
			return nil, fmt.Errorf("stage %d %q: hold must be a duration such as 30s, got %q", i+1, part, f[2])
		}
		out = append(out, Stage{Clients: n, Ramp: Duration(ramp), Hold: Duration(hold)})
	}
	return out, nil
}
