package health

// The alert state machine, per check, in the manner of Prometheus'
// Alertmanager: Step is a pure function of the previous state, a round's
// report and the time, so every rule below is table-tested without Redis,
// SMTP or a real clock (see alert_test.go).
//
// A check's alert fires while the check is warn or fail. After each round
// Step decides whether one notice (one email) is due, listing every check
// that changed and every check still firing:
//
//   - a check enters warn or fail: notice ("firing");
//   - a check gets worse than the last notice said (warn → fail): notice
//     ("worse", an escalation). Getting better (fail → warn) is not worth
//     an email on its own; the next notice shows it;
//   - a check passes again in RecoverRounds consecutive complete rounds:
//     notice ("resolved");
//   - nothing of the above, but some check is firing and the last notice
//     is at least the repeat interval old: a reminder listing them all.
//
// Like an Alertmanager group, the repeat interval is kept per database,
// not per check: any notice lists every firing check and restarts the
// interval, so two checks that started failing an hour apart are reminded
// in one email, not in two emails an hour apart.
//
// # Flapping
//
// A recovery must hold for RecoverRounds (2) consecutive rounds before it
// is announced. A check that fails, passes once and fails again was never
// announced as recovered, so its second failure is not news either: no
// email, and its reminders keep their schedule. The administrator is never
// told "recovered" about a check that fails again in the next round. The
// price: the recovery email comes one round (an hour, by default) after the
// check first passes again. Likewise a check swinging between warn and
// fail escalates at most once per notice, since "worse" compares with what
// the last notice said, not with the previous round. A check that flaps
// slower than that (fails, holds a recovery for two rounds, fails again)
// is announced each time, truthfully.
//
// # Complete and partial rounds
//
// A round is complete unless its TaskCheck fails: a health:check task that
// could not finish reports only that check, and says nothing about the
// others, which keep their state. In a complete round a check missing from
// the report counts as passing ("gone": it is no longer checked, e.g. after
// a configuration change), so its alert resolves instead of firing forever;
// TaskCheck itself is usually missing, which is how it resolves once rounds
// complete again.
//
// # Reminders and late rounds
//
// Rounds start a little late (a busy worker, a slow check), so a reminder
// is due once the repeat interval, less a slack of a tenth of it (at most
// RepeatSlack), has passed since the last notice: with hourly rounds and a
// 6h interval, a round 30 s late does not push the reminder a whole hour.

import (
	"cmp"
	"slices"
	"time"
)

// TaskCheck is the check a round that could not complete reports as
// failing (the health:check task failed for good): the server's health is
// then unknown, which the administrator must hear about like a failing
// check.
const TaskCheck = "health:task"

// RecoverRounds is how many consecutive complete rounds a check must pass
// before its recovery is announced.
const RecoverRounds = 2

// RepeatSlack is the most a reminder may come before the repeat interval
// has fully passed (see "Reminders and late rounds").
const RepeatSlack = 5 * time.Minute

// Change is what happened to a check since the last notice.
type Change string

// The changes a notice lists.
const (
	// Firing: the check entered warn or fail.
	Firing Change = "firing"
	// Worse: warn when the last notice was sent, fail now.
	Worse Change = "worse"
	// Better: fail when the last notice was sent, warn now.
	Better Change = "better"
	// Still: as the last notice said.
	Still Change = "still"
	// Recovering: the check passes again, but not yet for RecoverRounds
	// rounds; it still counts as firing.
	Recovering Change = "recovering"
	// Resolved: the check passed RecoverRounds rounds in a row (or is no
	// longer checked); its alert ends.
	Resolved Change = "resolved"
)

// AlertState is what the state machine remembers between rounds: the
// alerts of the checks that fire, and the last notice. It is stored as
// JSON.
type AlertState struct {
	// Alerts are the firing checks' alerts, by check name.
	Alerts map[string]CheckAlert `json:"alerts,omitempty"`
	// Seq numbers the notices: the next one is number Seq. With the
	// database it identifies a notice's emails, so a round that is run
	// again from the same state queues the same email IDs.
	Seq int64 `json:"seq"`
	// LastNotice is when the last notice was due (zero: none yet).
	LastNotice time.Time `json:"last_notice,omitzero"`
	// Epoch names this state's life (set by whoever stores it when it
	// starts afresh, Step keeps it): with Seq it keys the notices, so a
	// state that was lost and restarts at Seq 0 never reuses the email IDs
	// of the old one.
	Epoch string `json:"epoch,omitempty"`
}

// CheckAlert is the alert of one check that fires.
type CheckAlert struct {
	// Status is the check's last observed status other than pass.
	Status Status `json:"status"`
	// Notified is the status the last notice showed ("" before the first).
	Notified Status `json:"notified,omitempty"`
	// Since is when the alert started firing.
	Since time.Time `json:"since"`
	// Passes counts the consecutive complete rounds the check passed (or
	// was missing from) since it last did not pass.
	Passes int `json:"passes,omitempty"`
	// Last is the check's last result other than pass, for notices that
	// list it while it is not observed or recovering.
	Last Result `json:"last"`
}

// Alert is one check in a notice.
type Alert struct {
	Check  string `json:"check"`
	Change Change `json:"change"`
	// Status is the check's status now: warn or fail, or pass when it is
	// recovering or resolved.
	Status Status `json:"status"`
	// Was is the status the previous notice showed ("" when it is new).
	Was Status `json:"was,omitempty"`
	// Since is when the alert started firing.
	Since time.Time `json:"since"`
	// Gone: the check is no longer in the reports.
	Gone bool `json:"gone,omitempty"`
	// Result is the check's result this round; for a check not observed
	// this round, its last result other than pass.
	Result Result `json:"result"`
}

// Complete reports whether the round that made r ran its checks: r's
// TaskCheck, if any, does not fail.
func (r Report) Complete() bool {
	return r.Checks[TaskCheck].Status != Fail
}

// Step advances the alert state by one round: rep, observed at now. It
// returns the new state and the alerts of the notice due this round, or
// none when no notice is due. repeat is the reminder interval; 0 or less
// sends no reminders. When a notice is due, its number is prev.Seq.
func Step(prev AlertState, rep Report, now time.Time, repeat time.Duration) (AlertState, []Alert) {
	next := AlertState{Alerts: make(map[string]CheckAlert, len(prev.Alerts)), Seq: prev.Seq, LastNotice: prev.LastNotice}
	complete := rep.Complete()
	var alerts []Alert
	news, firing := false, false

	names := make([]string, 0, len(prev.Alerts)+len(rep.Checks))
	for name := range prev.Alerts {
		names = append(names, name)
	}
	for name := range rep.Checks {
		if _, ok := prev.Alerts[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)

	for _, name := range names {
		res, observed := rep.Checks[name]
		a, wasFiring := prev.Alerts[name]
		switch {
		case observed && res.Status != Pass:
			firing = true
			if !wasFiring {
				a = CheckAlert{Since: now}
			}
			a.Status, a.Passes, a.Last = res.Status, 0, res
			al := Alert{Check: name, Status: res.Status, Was: a.Notified, Since: a.Since, Result: res}
			switch {
			case a.Notified == "":
				al.Change, news = Firing, true
			case res.Status.Severity() > a.Notified.Severity():
				al.Change, news = Worse, true
			case res.Status.Severity() < a.Notified.Severity():
				al.Change = Better
			default:
				al.Change = Still
			}
			next.Alerts[name] = a
			alerts = append(alerts, al)

		case !wasFiring:
			// Passing, or missing, and not firing: nothing to remember.

		case !observed && !complete:
			// Unknown this round: the alert stays as it was.
			next.Alerts[name] = a
			al := Alert{Check: name, Change: Still, Status: a.Status, Was: a.Notified, Since: a.Since, Result: a.Last}
			if a.Passes > 0 {
				al.Change, al.Status = Recovering, Pass
			}
			alerts = append(alerts, al)

		default:
			// Passing, or gone from a complete round.
			a.Passes++
			al := Alert{Check: name, Status: Pass, Was: a.Notified, Since: a.Since, Gone: !observed, Result: res}
			if a.Passes >= RecoverRounds {
				al.Change, news = Resolved, true
			} else {
				al.Change = Recovering
				next.Alerts[name] = a
			}
			alerts = append(alerts, al)
		}
	}

	due := news || (firing && repeat > 0 && !now.Before(prev.LastNotice.Add(repeat-slack(repeat))))
	if !due {
		return next, nil
	}
	for name, a := range next.Alerts {
		if a.Passes == 0 {
			a.Notified = a.Status
			next.Alerts[name] = a
		}
	}
	next.Seq++
	next.LastNotice = now
	slices.SortStableFunc(alerts, func(x, y Alert) int {
		return cmp.Or(rank(x)-rank(y), y.Status.Severity()-x.Status.Severity(), cmp.Compare(x.Check, y.Check))
	})
	return next, alerts
}

// slack is how early a reminder may come: a tenth of repeat, at most
// RepeatSlack.
func slack(repeat time.Duration) time.Duration {
	return min(repeat/10, RepeatSlack)
}

// rank orders a notice: news first, then what still fires, then what
// recovers.
func rank(a Alert) int {
	switch a.Change {
	case Firing, Worse:
		return 0
	case Better, Still:
		return 1
	case Recovering:
		return 2
	}
	return 3
}
