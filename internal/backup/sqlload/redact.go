package sqlload

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// headTokens bounds how many words a StatementError's Head shows.
const headTokens = 8

// head describes a statement for an error without quoting any value: its
// first bare words and `identifiers`, up to the first name it touches
// ("INSERT INTO `t`", "CREATE TABLE `t`", "SET NAMES utf8mb4"). It stops
// at a string, a number or any other token, so no row data gets in.
func head(text []byte) string {
	if d, ok := FindDefiner(text); ok {
		return oneLine("CREATE " + d.Kind + " " + d.Name)
	}
	t := tokenizer{b: text}
	var words []string
	for len(words) < headTokens {
		t.skip()
		if t.i >= len(t.b) {
			break
		}
		start := t.i
		if c := t.b[t.i]; c == '`' {
			if !t.quoted() {
				break
			}
			words = append(words, string(t.b[start:t.i]))
			break // the name: enough to say what the statement touches
		}
		if c := t.b[t.i]; c >= '0' && c <= '9' || !isWordByte(c) {
			break
		}
		t.word()
		w := string(t.b[start:t.i])
		if t.i+1 < len(t.b) && t.b[t.i] == '=' && isWordByte(t.b[t.i+1]) && (t.b[t.i+1] < '0' || t.b[t.i+1] > '9') { // ALGORITHM=UNDEFINED
			t.i++
			v := t.i
			t.word()
			w += "=" + string(t.b[v:t.i])
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return "statement"
	}
	return oneLine(strings.Join(words, " "))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// withheld replaces a value cut out of a server message.
const withheld = "(value not shown)"

// withoutValues returns err with the values the server quotes in some
// messages taken out: a duplicate key's value, a bad value, the text near
// a syntax error. The result is still a *mysql.MySQLError with the same
// number and SQL state, so callers can test them.
func withoutValues(err error) error {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	msg, ok := redactMessage(me.Number, me.Message)
	if !ok {
		return err
	}
	return &mysql.MySQLError{Number: me.Number, SQLState: me.SQLState, Message: msg}
}

// redactMessage cuts the quoted value out of the messages of the server
// errors that carry one (MariaDB's and MySQL's errmsg texts). ok is false
// for a message that quotes nothing. A message of one of these errors
// that does not have the expected shape is replaced whole.
func redactMessage(number uint16, msg string) (string, bool) {
	// cut replaces msg[from:to] with the withheld marker.
	cut := func(from, to int) (string, bool) {
		if from < 0 || to < from {
			return "the server's message quotes row data " + withheld, true
		}
		return msg[:from] + withheld + msg[to:], true
	}
	switch number {
	case 1062, 1586: // ER_DUP_ENTRY(_WITH_KEY_NAME): Duplicate entry '%s' for key '%s'
		from := strings.Index(msg, "'")
		return cut(from, strings.LastIndex(msg, "' for key ")+1)
	case 1064: // ER_PARSE_ERROR: … near '%s' at line %d
		from := strings.Index(msg, "near '")
		if from >= 0 {
			from += len("near ")
		}
		return cut(from, strings.LastIndex(msg, "' at line ")+1)
	case 1300: // ER_INVALID_CHARACTER_STRING: Invalid %s character string: '%s'
		return cut(strings.Index(msg, "'"), strings.LastIndex(msg, "'")+1)
	case 1761, 1762: // ER_FOREIGN_DUPLICATE_KEY_*: … record '%s' would lead to a duplicate entry …
		from := strings.Index(msg, "record '")
		if from >= 0 {
			from += len("record ")
		}
		return cut(from, strings.LastIndex(msg, "' would lead")+1)
	case 1292, 1366, 1367, 1411, 1525: // Incorrect %s value: '%s' for column …; Truncated incorrect …; ER_WRONG_VALUE
		from := strings.Index(msg, "'")
		to := strings.LastIndex(msg, "' for ")
		if to < 0 {
			to = strings.LastIndex(msg, "'")
		}
		if i := strings.LastIndex(msg, "' value found"); i > from { // ER_ILLEGAL_VALUE_FOR_TYPE
			to = i
		}
		return cut(from, to+1)
	}
	return msg, false
}
