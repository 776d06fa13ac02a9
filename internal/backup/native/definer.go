package native

import "github.com/cantina-pos/cantina-ops/internal/backup/sqlload"

// stripDefiner removes the DEFINER=… clause from a CREATE statement as SHOW
// CREATE VIEW/TRIGGER/PROCEDURE/FUNCTION/EVENT prints it (for
// Options.StripDefiners), so that the object, restored by any user, is
// owned by that user instead of needing SUPER (or SET USER) to name the
// original account. The clause is found by sqlload.FindDefiner, the same
// reading a restore uses to rewrite it; anything else is left alone.
func stripDefiner(stmt string) string {
	d, ok := sqlload.FindDefiner([]byte(stmt))
	if !ok {
		return stmt
	}
	end := d.End
	for end < len(stmt) && (stmt[end] == ' ' || stmt[end] == '\t' || stmt[end] == '\n' || stmt[end] == '\r') {
		end++
	}
	return stmt[:d.Start] + stmt[end:]
}
