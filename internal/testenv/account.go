package testenv

import (
	"context"
	"strings"
	"testing"
)

// MySQLAccount creates a new account 'u_…'@'%' with the given grants
// (statements with {user} for the quoted account, e.g. "GRANT ALL ON `db`.*
// TO {user}"), drops it at cleanup, and returns the server as seen by it.
// Without grants it may only connect.
func MySQLAccount(tb testing.TB, srv MySQLServer, grants ...string) MySQLServer {
	tb.Helper()
	admin := srv.Open(tb, "")
	acc := srv
	acc.User, acc.Password = "u_"+randomHex(6), "pw-"+randomHex(8)
	quoted := "'" + acc.User + "'@'%'"
	ctx := context.Background()
	stmts := append([]string{"CREATE USER " + quoted + " IDENTIFIED BY '" + acc.Password + "'"}, grants...)
	tb.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP USER IF EXISTS "+quoted) })
	for _, s := range stmts {
		if _, err := admin.ExecContext(ctx, strings.ReplaceAll(s, "{user}", quoted)); err != nil {
			tb.Fatalf("create test account: %s: %v", strings.ReplaceAll(s, acc.Password, "***"), err)
		}
	}
	return acc
}
