package health

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// round is one observation in a scenario: at (after t0), the checks'
// statuses (a check left out is missing from the report), and the notice
// expected, as "check change status[ was][ gone]" lines; nil: no notice.
type round struct {
	at     time.Duration
	checks map[string]Status
	want   []string
}

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

const repeat = 6 * time.Hour

func TestStep(t *testing.T) {
	P, W, F := Pass, Warn, Fail
	h := time.Hour
	sl := slack(repeat) // 5 min with a 6 h interval
	tests := []struct {
		name   string
		repeat time.Duration
		rounds []round
	}{
		{"healthy: nothing", repeat, []round{
			{0, map[string]Status{"db": P, "disk": P}, nil},
			{h, map[string]Status{"db": P}, nil},
		}},
		{"first failure", repeat, []round{
			{0, map[string]Status{"db": P}, nil},
			{h, map[string]Status{"db": F, "disk": P}, []string{"db firing fail"}},
			{2 * h, map[string]Status{"db": F, "disk": P}, nil},
		}},
		{"first warn", repeat, []round{
			{0, map[string]Status{"disk": W}, []string{"disk firing warn"}},
		}},
		{"warn to fail escalates", repeat, []round{
			{0, map[string]Status{"disk": W}, []string{"disk firing warn"}},
			{h, map[string]Status{"disk": F}, []string{"disk worse fail was=warn"}},
			{2 * h, map[string]Status{"disk": F}, nil},
		}},
		{"fail to warn waits for the next notice", repeat, []round{
			{0, map[string]Status{"disk": F}, []string{"disk firing fail"}},
			{h, map[string]Status{"disk": W}, nil},
			{repeat, map[string]Status{"disk": W}, []string{"disk better warn was=fail"}},
			{repeat + h, map[string]Status{"disk": F}, []string{"disk worse fail was=warn"}},
		}},
		{"reminder not before the interval, less the slack", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{repeat - sl - time.Second, map[string]Status{"db": F}, nil},
			{repeat - sl, map[string]Status{"db": F}, []string{"db still fail was=fail"}},
			// The next one counts from this one.
			{2*(repeat-sl) - time.Second, map[string]Status{"db": F}, nil},
			{2 * (repeat - sl), map[string]Status{"db": F}, []string{"db still fail was=fail"}},
		}},
		{"reminder exactly after the interval", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{5 * h, map[string]Status{"db": F}, nil},
			{repeat, map[string]Status{"db": F}, []string{"db still fail was=fail"}},
			{repeat + 5*h, map[string]Status{"db": F}, nil},
		}},
		{"no reminders with repeat 0", 0, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{48 * h, map[string]Status{"db": F}, nil},
		}},
		{"no reminder while it passes", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{repeat, map[string]Status{"db": P}, nil},
		}},
		{"recovery: one email, after two passing rounds", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{h, map[string]Status{"db": P}, nil},
			{2 * h, map[string]Status{"db": P}, []string{"db resolved pass was=fail"}},
			{3 * h, map[string]Status{"db": P}, nil},
			{repeat + 3*h, map[string]Status{"db": P}, nil},
		}},
		{"fails again after the recovery: a new alert", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{h, map[string]Status{"db": P}, nil},
			{2 * h, map[string]Status{"db": P}, []string{"db resolved pass was=fail"}},
			{3 * h, map[string]Status{"db": W}, []string{"db firing warn"}},
		}},
		{"flapping within the interval: no storm", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{1 * h, map[string]Status{"db": P}, nil},
			{2 * h, map[string]Status{"db": F}, nil},
			{3 * h, map[string]Status{"db": P}, nil},
			{4 * h, map[string]Status{"db": W}, nil},
			{5 * h, map[string]Status{"db": P}, nil},
			{repeat, map[string]Status{"db": F}, []string{"db still fail was=fail"}},
			{repeat + h, map[string]Status{"db": P}, nil},
			{repeat + 2*h, map[string]Status{"db": P}, []string{"db resolved pass was=fail"}},
		}},
		{"flapping between warn and fail escalates once", repeat, []round{
			{0, map[string]Status{"cpu": W}, []string{"cpu firing warn"}},
			{1 * h, map[string]Status{"cpu": F}, []string{"cpu worse fail was=warn"}},
			{2 * h, map[string]Status{"cpu": W}, nil},
			{3 * h, map[string]Status{"cpu": F}, nil},
			{4 * h, map[string]Status{"cpu": W}, nil},
		}},
		{"several checks: one notice per round", repeat, []round{
			{0, map[string]Status{"db": F, "disk": W, "cpu": P}, []string{"db firing fail", "disk firing warn"}},
			// A new check lists the others still firing.
			{h, map[string]Status{"db": F, "disk": W, "cpu": F}, []string{"cpu firing fail", "db still fail was=fail", "disk still warn was=warn"}},
			// One recovering: listed when a notice goes out anyway.
			{2 * h, map[string]Status{"db": P, "disk": F, "cpu": F}, []string{"disk worse fail was=warn", "cpu still fail was=fail", "db recovering pass was=fail"}},
			{3 * h, map[string]Status{"db": P, "disk": F, "cpu": F}, []string{"cpu still fail was=fail", "disk still fail was=fail", "db resolved pass was=fail"}},
			// The reminder is per database: one, counted from the last notice.
			{3*h + repeat - sl - time.Second, map[string]Status{"db": P, "disk": F, "cpu": F}, nil},
			{3*h + repeat, map[string]Status{"db": P, "disk": F, "cpu": F}, []string{"cpu still fail was=fail", "disk still fail was=fail"}},
			{4*h + repeat, map[string]Status{"db": P, "disk": P, "cpu": P}, nil},
			{5*h + repeat, map[string]Status{"db": P, "disk": P, "cpu": P}, []string{"cpu resolved pass was=fail", "disk resolved pass was=fail"}},
		}},
		{"a check that disappears resolves as gone", repeat, []round{
			{0, map[string]Status{"db": P, "old": F}, []string{"old firing fail"}},
			{h, map[string]Status{"db": P}, nil},
			{repeat, map[string]Status{"db": P}, []string{"old resolved pass was=fail gone"}},
			{repeat + h, map[string]Status{"db": P}, nil},
		}},
		{"a round that could not complete keeps the other alerts", repeat, []round{
			{0, map[string]Status{"db": F, "disk": P}, []string{"db firing fail"}},
			{h, map[string]Status{TaskCheck: F}, []string{"health:task firing fail", "db still fail was=fail"}},
			{2 * h, map[string]Status{TaskCheck: F}, nil},
			// Complete rounds again: the task check is missing, so it passes.
			{3 * h, map[string]Status{"db": F, "disk": P}, nil},
			{4 * h, map[string]Status{"db": F, "disk": P}, []string{"db still fail was=fail", "health:task resolved pass was=fail gone"}},
		}},
		{"a partial round neither passes nor breaks a recovery", repeat, []round{
			{0, map[string]Status{"db": F}, []string{"db firing fail"}},
			{h, map[string]Status{"db": P}, nil},
			{2 * h, map[string]Status{TaskCheck: F}, []string{"health:task firing fail", "db recovering pass was=fail"}},
			// The partial round is skipped: db's second passing round
			// resolves it.
			{3 * h, map[string]Status{"db": P}, []string{"health:task recovering pass was=fail gone", "db resolved pass was=fail"}},
			{4 * h, map[string]Status{"db": P}, []string{"health:task resolved pass was=fail gone"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st AlertState
			for i, r := range tt.rounds {
				now := t0.Add(r.at)
				rep := Report{Status: Pass, Checks: map[string]Result{}, Time: now}
				for name, s := range r.checks {
					rep.Checks[name] = Result{Status: s, Output: name + " is " + string(s), Time: now}
					rep.Status = worse(rep.Status, s)
				}
				prevSeq := st.Seq
				next, alerts := Step(st, rep, now, tt.repeat)
				if got := alertLines(alerts); !reflect.DeepEqual(got, r.want) {
					t.Errorf("round %d (+%s): notice %q, want %q", i, r.at, got, r.want)
				}
				wantSeq := prevSeq
				if r.want != nil {
					wantSeq++
					if !next.LastNotice.Equal(now) {
						t.Errorf("round %d: last notice %s, want %s", i, next.LastNotice, now)
					}
				}
				if next.Seq != wantSeq {
					t.Errorf("round %d: seq %d, want %d", i, next.Seq, wantSeq)
				}
				for _, a := range alerts {
					if a.Since.IsZero() || a.Since.After(now) {
						t.Errorf("round %d: %s firing since %s", i, a.Check, a.Since)
					}
					if a.Status != Pass && a.Result.Output != a.Check+" is "+string(a.Status) {
						t.Errorf("round %d: %s carries result %+v", i, a.Check, a.Result)
					}
				}
				st = roundTrip(t, next)
			}
		})
	}
}

// TestStepIsPure: the same state and report give the same answer, and
// the caller's state is left as it was (a retried round starts from it).
func TestStepIsPure(t *testing.T) {
	prev := AlertState{Seq: 3, LastNotice: t0, Alerts: map[string]CheckAlert{
		"db": {Status: Fail, Notified: Fail, Since: t0, Last: Result{Status: Fail}},
	}}
	before := roundTrip(t, prev)
	rep := Report{Status: Pass, Checks: map[string]Result{"db": {Status: Pass}}}
	now := t0.Add(time.Hour)
	s1, a1 := Step(prev, rep, now, repeat)
	s2, a2 := Step(prev, rep, now, repeat)
	if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(a1, a2) {
		t.Errorf("two steps from the same state differ: %+v %+v / %+v %+v", s1, a1, s2, a2)
	}
	if !reflect.DeepEqual(prev, before) {
		t.Errorf("Step changed its input: %+v, was %+v", prev, before)
	}
}

// alertLines renders a notice as the scenarios write it.
func alertLines(alerts []Alert) []string {
	if alerts == nil {
		return nil
	}
	out := make([]string, 0, len(alerts))
	for _, a := range alerts {
		s := fmt.Sprintf("%s %s %s", a.Check, a.Change, a.Status)
		if a.Was != "" {
			s += " was=" + string(a.Was)
		}
		if a.Gone {
			s += " gone"
		}
		out = append(out, s)
	}
	return out
}

// roundTrip stores and loads st as HealthWatch does, so every scenario
// also proves the state survives JSON.
func roundTrip(tb testing.TB, st AlertState) AlertState {
	tb.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	var out AlertState
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	if strings.Contains(string(b), `"alerts":{}`) {
		tb.Errorf("empty alerts stored: %s", b)
	}
	return out
}
