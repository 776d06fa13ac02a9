package backup

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// mayNameDefiners reports whether the account of conn may create views,
// triggers, routines and events owned by another account, as a dump with
// DEFINER clauses asks. When it may not (hosted servers such as JawsDB
// grant no SUPER), a restore rewrites those clauses to the current user
// (sqlload.LoadOptions.RewriteDefiners) rather than fail.
func mayNameDefiners(ctx context.Context, conn *sql.Conn) (bool, error) {
	rows, err := conn.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		return false, fmt.Errorf("read the restoring account's grants: %w", err)
	}
	defer rows.Close()
	var grants []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return false, fmt.Errorf("read the restoring account's grants: %w", err)
		}
		grants = append(grants, g)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read the restoring account's grants: %w", err)
	}
	return canNameDefiners(grants), nil
}

// canNameDefiners reads SHOW GRANTS lines: an account may name another
// account as DEFINER with a global (ON *.*) SUPER, ALL PRIVILEGES, SET
// USER (MariaDB 10.5.2+) or SET_USER_ID / SET_ANY_DEFINER (MySQL 8).
// Anything it cannot read counts as no.
func canNameDefiners(grants []string) bool {
	for _, g := range grants {
		if !strings.HasPrefix(g, "GRANT ") {
			continue
		}
		on := strings.Index(g, " ON ")
		if on < 0 {
			continue // a role granted to the account
		}
		if !strings.HasPrefix(g[on+len(" ON "):], "*.* TO ") {
			continue
		}
		for _, p := range strings.Split(g[len("GRANT "):on], ",") {
			switch strings.ToUpper(strings.TrimSpace(p)) {
			case "ALL", "ALL PRIVILEGES", "SUPER", "SET USER", "SET_USER_ID", "SET_ANY_DEFINER":
				return true
			}
		}
	}
	return false
}
