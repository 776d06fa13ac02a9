package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/password"
)

// Console is who may log in to the console and for how long (CONSOLE_*).
type Console struct {
	// Users are CONSOLE_USERS' accounts, then CONSOLE_USER's (an operator
	// whose password is CONSOLE_PASSWORD) when set. Names are unique.
	Users []ConsoleUser
	// IdleTimeout ends a session nobody used for this long
	// (CONSOLE_IDLE_TIMEOUT); SessionLifetime ends any session.
	IdleTimeout time.Duration
	// Lang is NOTIFY_LANG as set ("es", "en"), "" when unset: the console
	// then follows the browser's Accept-Language.
	Lang string
}

// ConsoleUser is one account of the console.
type ConsoleUser struct {
	Name string
	Role Role
	// Hash is the argon2id PHC hash of the password (CONSOLE_USERS);
	// Password the clear one of the CONSOLE_USER shorthand. One is set.
	Hash     Secret
	Password Secret
}

// Role is what an account may do in the console.
type Role string

const (
	// RoleViewer sees the queues, tasks and pages but changes nothing.
	RoleViewer Role = "viewer"
	// RoleOperator may also retry, run, delete and trigger.
	RoleOperator Role = "operator"
)

// Console defaults, exported for the README table and tests.
const (
	DefaultConsoleIdleTimeout = 30 * time.Minute
	// SessionLifetime is the absolute limit of a console session.
	SessionLifetime = 12 * time.Hour
)

// consoleEntryStart is how an entry of CONSOLE_USERS begins, a name and a
// colon; what follows a hash's own commas (m=…,t=…,p=…) has '=' or '$'
// before any colon.
var consoleEntryStart = regexp.MustCompile(`^[^:$=]*:`)

// console reads CONSOLE_USERS, CONSOLE_IDLE_TIMEOUT and NOTIFY_LANG's
// raw value, and adds the CONSOLE_USER shorthand (read by Load) as an
// operator. No message quotes a hash or a password.
func (p *parser) console(user string, pw Secret) Console {
	c := Console{IdleTimeout: p.duration("CONSOLE_IDLE_TIMEOUT", DefaultConsoleIdleTimeout)}
	if c.IdleTimeout > SessionLifetime {
		p.fail("CONSOLE_IDLE_TIMEOUT", "must be at most %s (a session's absolute lifetime), not %s", SessionLifetime, c.IdleTimeout)
	}
	if v := p.str("NOTIFY_LANG", ""); v != "" {
		c.Lang = strings.ToLower(v)
	}
	const name = "CONSOLE_USERS"
	seen := map[string]bool{}
	for i, entry := range splitConsoleUsers(p.str(name, "")) {
		pos := "entry " + strconv.Itoa(i+1)
		n, rest, _ := strings.Cut(entry, ":")
		role, hash, ok := strings.Cut(rest, ":")
		switch {
		case !ok:
			p.fail(name, "%s is not name:role:hash (the hash from `cantina-ops user hash`)", pos)
			continue
		case !apiTokenName.MatchString(n):
			p.fail(name, "%s: the name must be letters, digits, '_', '.', '-' (up to 64), e.g. ana", pos)
			continue
		case seen[n]:
			p.fail(name, "%s: the name %q is used twice; each person needs their own account", pos, n)
			continue
		case Role(role) != RoleViewer && Role(role) != RoleOperator:
			p.fail(name, "%s (%s): the role must be viewer or operator", pos, n)
			continue
		}
		if _, err := password.Parse(hash); err != nil {
			hint := ""
			if !strings.HasPrefix(hash, "$argon2id$") {
				hint = " (in .env, put the whole value in single quotes: '$' starts a variable there)"
			}
			p.fail(name, "%s (%s): %v; make one with `cantina-ops user hash`%s", pos, n, err, hint)
			continue
		}
		seen[n] = true
		c.Users = append(c.Users, ConsoleUser{Name: n, Role: Role(role), Hash: Secret(hash)})
	}
	if user != "" && pw != "" {
		if seen[user] {
			p.fail("CONSOLE_USER", "%q is in CONSOLE_USERS too; keep one of the two", user)
		} else {
			c.Users = append(c.Users, ConsoleUser{Name: user, Role: RoleOperator, Password: pw})
		}
	}
	return c
}

// splitConsoleUsers splits CONSOLE_USERS at the commas that start a new
// name:role: entry; the others belong to a hash's parameters.
func splitConsoleUsers(raw string) []string {
	var out []string
	for _, piece := range strings.Split(raw, ",") {
		if len(out) > 0 && strings.TrimSpace(piece) != "" && !consoleEntryStart.MatchString(piece) {
			out[len(out)-1] += "," + piece
			continue
		}
		out = append(out, piece)
	}
	entries := out[:0]
	for _, e := range out {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// consoleUsersSetting lists CONSOLE_USERS' accounts as name:role, hashes
// left out.
func (c *Config) consoleUsersSetting() string {
	var parts []string
	for _, u := range c.Console.Users {
		if u.Hash.IsSet() {
			parts = append(parts, u.Name+":"+string(u.Role))
		}
	}
	return strings.Join(parts, ",")
}
