package config

import (
	"maps"
	"strings"
	"testing"
)

// testDatabaseURL is the database every test that is not about the database uses.
const testDatabaseURL = "mysql://pos:pospw@db.internal:3306/pos"

// lookupOf returns a Lookup over env only, so no test reads the real environment.
func lookupOf(env map[string]string) Lookup {
	return func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}
}

// withDB returns over plus a valid DATABASE_URL unless over sets one.
func withDB(over map[string]string) map[string]string {
	env := map[string]string{"DATABASE_URL": testDatabaseURL}
	maps.Copy(env, over)
	return env
}

// mustLoad loads env and fails the test on any problem.
func mustLoad(tb testing.TB, env map[string]string) *Config {
	tb.Helper()
	c, err := Load(lookupOf(env))
	if err != nil {
		tb.Fatalf("Load: unexpected error:\n%v", err)
	}
	if c == nil {
		tb.Fatal("Load returned a nil config and no error")
	}
	return c
}

// loadErr loads env and fails the test unless Load reports a problem.
func loadErr(tb testing.TB, env map[string]string) error {
	tb.Helper()
	c, err := Load(lookupOf(env))
	if err == nil {
		tb.Fatalf("Load succeeded, want an error (config %+v)", c)
	}
	if c != nil {
		tb.Errorf("Load returned a config along with its error")
	}
	return err
}

// problems splits a Load error into its one-line problems.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// wantProblem fails unless err lists a problem for variable name (the line
// starts with "NAME: ") that contains every one of substrs.
func wantProblem(tb testing.TB, err error, name string, substrs ...string) {
	tb.Helper()
	for _, p := range problems(err) {
		if !strings.HasPrefix(p, name+": ") {
			continue
		}
		all := true
		for _, s := range substrs {
			if !strings.Contains(p, s) {
				all = false
			}
		}
		if all {
			return
		}
	}
	tb.Errorf("no problem for %s containing %q in:\n%v", name, substrs, err)
}

// wantOnlyProblemsFor fails unless every problem in err is for one of names.
func wantOnlyProblemsFor(tb testing.TB, err error, names ...string) {
	tb.Helper()
	for _, p := range problems(err) {
		ok := false
		for _, n := range names {
			if strings.HasPrefix(p, n+": ") {
				ok = true
			}
		}
		if !ok {
			tb.Errorf("unexpected problem %q (want only %v)", p, names)
		}
	}
}
