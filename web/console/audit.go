package console

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditStream is the queue Redis stream that keeps the last AuditKeep
// audit events for the audit page.
const AuditStream = "cantina:audit"

// AuditKeep is about how many events AuditStream keeps (XADD MAXLEN ~).
const AuditKeep = 1000

// What an audit event records.
const (
	ActionLogin        = "login"         // a console login (form or HTTP Basic)
	ActionLoginFailed  = "login_failed"  // wrong user name or password
	ActionLoginLimited = "login_limited" // refused by RATE_LIMIT_LOGIN before checking
	ActionLogout       = "logout"
	ActionMutation     = "console_change"   // a state-changing asynqmon call
	ActionAPICall      = "api_call"         // an API call with a valid token
	ActionBackup       = "backup_triggered" // a backup or verify enqueued on request
)

// Event is one audit record: who did what, from where. Empty fields are
// left out of the log line and the stream.
type Event struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	User   string    `json:"user,omitempty"`  // console account
	Token  string    `json:"token,omitempty"` // API token's name
	IP     string    `json:"ip,omitempty"`
	Method string    `json:"method,omitempty"`
	Path   string    `json:"path,omitempty"`
	Queue  string    `json:"queue,omitempty"`
	TaskID string    `json:"task_id,omitempty"`
	Status int       `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Auditor writes audit events as JSON log lines with "audit": true and
// to AuditStream.
type Auditor struct {
	rdb redis.UniversalClient
	log *slog.Logger
	now func() time.Time
}

// NewAuditor returns an auditor writing to rdb (the queue Redis) and
// log; now is its clock (nil: time.Now).
func NewAuditor(rdb redis.UniversalClient, log *slog.Logger, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	return &Auditor{rdb: rdb, log: log, now: now}
}

// auditTimeout bounds writing one event to Redis.
const auditTimeout = 2 * time.Second

// Audit records e, stamped now. It never fails the caller: an event Redis
// cannot take is still in the log, with a warning.
func (a *Auditor) Audit(ctx context.Context, e Event) {
	e = a.LogOnly(ctx, e)
	a.keep(ctx, e)
}

// LogOnly writes e as an audit log line and not to AuditStream: for events
// a client can cause at will (logins refused by the rate limit), which
// would otherwise push the operators' actions out of the stream's last
// AuditKeep. It returns e stamped.
func (a *Auditor) LogOnly(ctx context.Context, e Event) Event {
	if e.Time.IsZero() {
		e.Time = a.now().UTC()
	}
	attrs := []slog.Attr{slog.Bool("audit", true), slog.String("action", e.Action)}
	for _, f := range []struct{ k, v string }{
		{"user", e.User}, {"token", e.Token}, {"ip", e.IP}, {"method", e.Method}, {"path", e.Path},
		{"queue", e.Queue}, {"task_id", e.TaskID}, {"detail", e.Detail},
	} {
		if f.v != "" {
			attrs = append(attrs, slog.String(f.k, f.v))
		}
	}
	if e.Status != 0 {
		attrs = append(attrs, slog.Int("status", e.Status))
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	return e
}

// keep adds e to AuditStream.
func (a *Auditor) keep(ctx context.Context, e Event) {
	b, err := json.Marshal(e)
	if err != nil {
		a.log.Warn("audit event not kept in redis", "action", e.Action, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	err = a.rdb.XAdd(ctx, &redis.XAddArgs{Stream: AuditStream, MaxLen: AuditKeep, Approx: true, Values: []any{"event", b}}).Err()
	if err != nil {
		a.log.Warn("audit event not kept in redis (it is in this log)", "action", e.Action, "err", err)
	}
}

// Recent returns up to n events of AuditStream, newest first.
func (a *Auditor) Recent(ctx context.Context, n int) ([]Event, error) {
	msgs, err := a.rdb.XRevRangeN(ctx, AuditStream, "+", "-", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit stream %s: %w", AuditStream, err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["event"].(string)
		var e Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			e = Event{Action: "unreadable", Detail: m.ID}
		}
		out = append(out, e)
	}
	return out, nil
}
