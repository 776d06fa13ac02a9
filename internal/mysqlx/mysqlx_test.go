package mysqlx

import "testing"

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{"ventas": "`ventas`", "a`b": "`a``b`", "": "``", "``": "``````"} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := CreateDatabase("a`b", true), "CREATE DATABASE IF NOT EXISTS `a``b` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; got != want {
		t.Errorf("CreateDatabase = %s", got)
	}
}
