package backup

import (
	"context"
	"database/sql"
)

// ObjectCounts counts the objects of a dump beside its tables. A restore
// needs to know of triggers and stored functions before it starts: on a
// server with a binary log only an account with SUPER may create them, and
// nobody an unsafe function (see Manager.creatorCheck).
type ObjectCounts struct {
	Views     int `json:"views"`
	Triggers  int `json:"triggers"`
	Functions int `json:"functions"`
	// UnsafeFunctions counts the functions declared neither DETERMINISTIC
	// nor NO SQL or READS SQL DATA.
	UnsafeFunctions int `json:"unsafe_functions"`
	// Procedures counts procedures, and packages on MariaDB.
	Procedures int `json:"procedures"`
	Events     int `json:"events"`
}

// countObjects counts database's objects, which every engine dumps (the
// native one, and mysqldump with --routines --events --triggers). It runs
// right after the dump, not in its snapshot: objects seldom change, and the
// count only decides whether a restore is refused up front (creatorCheck)
// or left to the server. Nil when the server cannot say.
func countObjects(ctx context.Context, db *sql.DB, database string) *ObjectCounts {
	var o ObjectCounts
	err := db.QueryRowContext(ctx, "SELECT "+
		"(SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?), "+
		"(SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?), "+
		"(SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = 'FUNCTION'), "+
		"(SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = 'FUNCTION' "+
		"AND IS_DETERMINISTIC <> 'YES' AND SQL_DATA_ACCESS IN ('CONTAINS SQL', 'MODIFIES SQL DATA')), "+
		"(SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE <> 'FUNCTION'), "+
		"(SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)",
		database, database, database, database, database, database).
		Scan(&o.Views, &o.Triggers, &o.Functions, &o.UnsafeFunctions, &o.Procedures, &o.Events)
	if err != nil {
		return nil
	}
	return &o
}
