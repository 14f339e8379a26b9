package profiles

import (
	"strings"
	"testing"
	"time"
)

func TestStagesSetClientsAndDuration(t *testing.T) {
	p, err := Parse("staged.yaml", []byte(`stages:
  - {clients: 10, ramp: 1s, hold: 2s}
  - {clients: 4, ramp: 1s, hold: 1s}
  - {clients: 8, ramp: 500ms, hold: 500ms}
stage_leave: sign_out
`))
	if err != nil {
		t.Fatal(err)
	}
	// 10 first, 6 leave, then 4 new ones join: 14 distinct clients.
	if p.Clients != 14 || p.Duration.D() != 6*time.Second || p.Ramp != 0 {
		t.Errorf("clients %d, duration %s, ramp %s; want 14, 6s, 0s", p.Clients, p.Duration, p.Ramp)
	}
	if got := p.StageBounds(); len(got) != 4 || got[1] != 3*time.Second || got[3] != 6*time.Second {
		t.Errorf("bounds %v", got)
	}
	if p.StageLeave != StageLeaveSignOut {
		t.Errorf("stage_leave %q", p.StageLeave)
	}
}

func TestStagesInvalidNameTheField(t *testing.T) {
	_, err := Parse("staged.yaml", []byte(`stages:
  - {clients: 10, ramp: 1s, hold: 2s}
  - {clients: -1, ramp: 0s, hold: 0s}
stage_leave: vanish
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"staged.yaml:3", "stages[1].clients", "stages[1].hold", "staged.yaml:4", "stage_leave"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestParseStagesFlag(t *testing.T) {
	st, err := ParseStages("200:10s:30s, 400:5s:1m")
	if err != nil || len(st) != 2 || st[1].Clients != 400 || st[1].Hold.D() != time.Minute {
		t.Fatalf("%v %v", st, err)
	}
	for _, bad := range []string{"200:10s", "x:1s:1s", "1:1s:-1s", "1:zz:1s"} {
		if _, err := ParseStages(bad); err == nil {
			t.Errorf("ParseStages(%q) gave no error", bad)
		}
	}
}
