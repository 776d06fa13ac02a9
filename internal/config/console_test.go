package config

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/password"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := password.New(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestConsoleUsers(t *testing.T) {
	hashA, hashB := mustHash(t, "ana-pw"), mustHash(t, "bob-pw")
	tests := []struct {
		name    string
		env     map[string]string
		want    []string // name:role
		errVar  string
		errText []string
	}{
		{name: "unset"},
		{name: "two users", env: map[string]string{"CONSOLE_USERS": "ana:operator:" + hashA + ", bob:viewer:" + hashB},
			want: []string{"ana:operator", "bob:viewer"}},
		{name: "with the shorthand", env: map[string]string{"CONSOLE_USERS": "bob:viewer:" + hashB + ",", "CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "console-pw"},
			want: []string{"bob:viewer", "ops:operator"}},
		{name: "shorthand alone", env: map[string]string{"CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "console-pw"}, want: []string{"ops:operator"}},
		{name: "no hash", env: map[string]string{"CONSOLE_USERS": "ana:operator"}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1 is not name:role:hash"}},
		{name: "bad role", env: map[string]string{"CONSOLE_USERS": "ana:admin:" + hashA}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1 (ana): the role must be viewer or operator"}},
		{name: "plain password", env: map[string]string{"CONSOLE_USERS": "ana:operator:hunter22"}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1 (ana): not an argon2id hash", "cantina-ops user hash", "single quotes"}},
		{name: "dollar expanded by a shell", env: map[string]string{"CONSOLE_USERS": "ana:operator:=19,m=19456,t=2,p=1"}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1 (ana)", "single quotes"}},
		{name: "duplicate", env: map[string]string{"CONSOLE_USERS": "ana:operator:" + hashA + ",ana:viewer:" + hashB}, errVar: "CONSOLE_USERS",
			errText: []string{`entry 2: the name "ana" is used twice`}},
		{name: "bad name", env: map[string]string{"CONSOLE_USERS": "a b:operator:" + hashA}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1: the name must be"}},
		{name: "shorthand clashes", env: map[string]string{"CONSOLE_USERS": "ops:viewer:" + hashA, "CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "console-pw"},
			errVar: "CONSOLE_USER", errText: []string{`"ops" is in CONSOLE_USERS too`}},
		{name: "every problem", env: map[string]string{"CONSOLE_USERS": "ana:admin:" + hashA + ",bob:viewer:nope,carl:viewer"}, errVar: "CONSOLE_USERS",
			errText: []string{"entry 1 (ana): the role", "entry 2 (bob): not an argon2id hash", "entry 3 is not name:role:hash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := withDB(tt.env)
			if tt.errVar != "" {
				err := loadErr(t, env)
				for _, w := range tt.errText {
					wantProblem(t, err, tt.errVar, w)
				}
				wantOnlyProblemsFor(t, err, tt.errVar)
				for _, secret := range []string{hashA, hashB, "hunter22", "console-pw"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error quotes a secret: %v", err)
					}
				}
				return
			}
			c := mustLoad(t, env)
			var got []string
			for _, u := range c.Console.Users {
				got = append(got, u.Name+":"+string(u.Role))
				if u.Hash.IsSet() == u.Password.IsSet() {
					t.Errorf("%s: want exactly one of hash and password", u.Name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("users %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConsoleUsersNeverPrinted: config check shows names and roles, never
// a hash or the shorthand's password.
func TestConsoleUsersNeverPrinted(t *testing.T) {
	hash := mustHash(t, "ana-pw")
	c := mustLoad(t, withDB(map[string]string{"CONSOLE_USERS": "ana:operator:" + hash, "CONSOLE_USER": "ops", "CONSOLE_PASSWORD": "console-pw"}))
	var buf bytes.Buffer
	if err := c.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, hash) || strings.Contains(out, "argon2id") || strings.Contains(out, "console-pw") {
		t.Errorf("config check prints a hash or password:\n%s", out)
	}
	for _, s := range c.Settings() {
		if s.Name == "CONSOLE_USERS" && s.Value != "ana:operator" {
			t.Errorf("CONSOLE_USERS shows %q, want ana:operator", s.Value)
		}
	}
}

// TestConsoleUsersFromEnvFile: a hash single-quoted in .env arrives whole
// ('$' is not expanded there).
func TestConsoleUsersFromEnvFile(t *testing.T) {
	unsetenv(t, "CONSOLE_USERS")
	unsetenv(t, "DATABASE_URL")
	hash := mustHash(t, "ana-pw")
	path := writeEnvFile(t, "DATABASE_URL="+testDatabaseURL+"\nCONSOLE_USERS='ana:viewer:"+hash+"'\n")
	c, err := Load(mustEnvironment(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Console.Users) != 1 || c.Console.Users[0].Hash.Reveal() != hash {
		t.Errorf("users %+v, want ana with the hash intact", c.Console.Users)
	}
}

func TestConsoleTimeoutAndLang(t *testing.T) {
	c := mustLoad(t, withDB(nil))
	if c.Console.IdleTimeout != 30*time.Minute || c.Console.Lang != "" {
		t.Errorf("defaults: idle %s, lang %q; want 30m and unset", c.Console.IdleTimeout, c.Console.Lang)
	}
	c = mustLoad(t, withDB(map[string]string{"CONSOLE_IDLE_TIMEOUT": "5m", "NOTIFY_LANG": "EN"}))
	if c.Console.IdleTimeout != 5*time.Minute || c.Console.Lang != "en" {
		t.Errorf("idle %s, lang %q; want 5m and en", c.Console.IdleTimeout, c.Console.Lang)
	}
	err := loadErr(t, withDB(map[string]string{"CONSOLE_IDLE_TIMEOUT": "13h"}))
	wantProblem(t, err, "CONSOLE_IDLE_TIMEOUT", "at most 12h0m0s")
	wantOnlyProblemsFor(t, err, "CONSOLE_IDLE_TIMEOUT")
}
