// Package mysqlx holds the MySQL/MariaDB statement pieces that the backup
// engines, restore, the restore drill and the demo share, so each is
// written once.
package mysqlx

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// QuoteIdent quotes an identifier with backticks, doubling any backtick
// inside it.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// CreateDatabase is the statement that creates database name with the
// character set and collation the POS uses (utf8mb4, utf8mb4_unicode_ci).
func CreateDatabase(name string, ifNotExists bool) string {
	s := "CREATE DATABASE "
	if ifNotExists {
		s += "IF NOT EXISTS "
	}
	return s + QuoteIdent(name) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
}

// IsServerError reports whether err is the server's error number (e.g.
// 1193, ER_UNKNOWN_SYSTEM_VARIABLE).
func IsServerError(err error, number uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == number
}
