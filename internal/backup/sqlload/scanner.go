package sqlload

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Statement is one statement split from a SQL script.
type Statement struct {
	// Text runs from the statement's first token to the byte before its
	// delimiter, trailing white space removed. Comments inside it are kept
	// as written (the server skips them; routine bodies keep theirs).
	// Text aliases the Scanner's buffer: it is valid until the next Scan.
	// For an Oversize statement it holds only the first bytes.
	Text []byte
	// Number is the statement's 1-based position in the script.
	Number int64
	// Line is the 1-based line where Text starts.
	Line int64
	// Offset is the input offset of Text's first byte; End is the offset
	// just past the statement's delimiter (past its line for a client
	// command line, the input size for a last statement without one).
	Offset, End int64
	// Size is the length of the whole statement text in bytes.
	Size int64
	// Terminated is false for a last statement that ends at the end of
	// the input without a delimiter (the mysql client runs it anyway).
	Terminated bool
	// Oversize reports a statement longer than the scanner's limit; its
	// text was not kept (Text holds its first bytes, for messages).
	Oversize bool
}

// SyntaxError is a script the scanner cannot split: input that ends inside
// a string or comment (usually a truncated file) or a bad DELIMITER line.
type SyntaxError struct {
	Line int64
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

const (
	// DefaultMaxStatement is the longest statement the scanner keeps in
	// memory unless told otherwise: the server's own upper bound for
	// max_allowed_packet, and the mysql client's batch buffer limit.
	DefaultMaxStatement = 1 << 30
	// snippetLen bytes of an oversize statement are kept for messages.
	snippetLen = 256
	// maxDelimiter is the longest delimiter the mysql client accepts.
	maxDelimiter = 15
	// maxCommandLine bounds the look-ahead for a DELIMITER or USE line.
	maxCommandLine = 64 << 10
)

// sandboxMarker starts the first line of mariadb-dump output since
// 10.5.25/10.6.18/10.11.8: a client command (\-) that switches the mariadb
// client into sandbox mode. Load never runs client commands, so the whole
// comment is skipped, as the client that understands it does.
const sandboxMarker = `/*M!999999\-`

type lexMode uint8

const (
	modeNormal lexMode = iota
	modeString
	modeComment     // /* … */
	modeLineComment // -- … or # …
)

// Scanner splits a SQL script into statements the way the mysql/mariadb
// command-line client does in batch mode (client/mysql.cc, add_line):
//
//   - a statement ends at the current delimiter (";" until a DELIMITER
//     line changes it) outside strings, quoted identifiers and comments;
//   - '…' and "…" strings honour backslash escapes (unless the session's
//     sql_mode has NO_BACKSLASH_ESCAPES, or ANSI_QUOTES for "…"), `…`
//     identifiers do not; doubled quotes need no special case;
//   - "#" and "-- " start a comment to the end of the line; "--" followed by
//     anything else is an operator ("1--1"), except at the very start of a
//     statement, where the client skips the whole line;
//   - /* … */ is a comment; /*!NNNNN … */ and /*M!NNNNNN … */ are
//     executable comments and part of the statement, which the server
//     interprets;
//   - a line "DELIMITER x" at the start of a statement changes the
//     delimiter and is not a statement; a line "USE db" without the
//     delimiter at the start of a statement is one statement;
//   - a last statement without a delimiter is still a statement.
//
// Unlike the client, comments and line breaks inside a statement are kept
// as written (like `mysql --comments`), carriage returns are not removed,
// and backslash commands outside strings (\g, \G, \d, \! …) are not
// interpreted: a backslash there only protects the next byte. Multi-byte
// text must be in an ASCII-compatible character set (utf8mb4, latin1,
// binary), as dumps are.
//
// The Scanner reads its input through one buffer that grows to the longest
// statement (bounded by SetMaxStatement) and is reused, so memory does not
// depend on the size of the script.
type Scanner struct {
	r       io.Reader
	buf     []byte
	pos     int   // next byte to examine
	end     int   // end of valid data in buf
	base    int64 // input offset of buf[0]
	eof     bool
	readErr error
	minFree int // read at least this much at a time

	delim       []byte
	special     [256]bool // bytes that need a look in a statement's plain text
	noBackslash bool
	ansiQuotes  bool
	maxStmt     int
	line        int64
	bol         bool // only white space since the start of the line
	number      int64

	// the statement being scanned
	mode      lexMode
	quote     byte
	openLine  int64 // line where the current string or comment opened
	inStmt    bool  // the statement has content
	start     int   // buf index of its first byte (-1: none, or oversize)
	startOff  int64
	startLine int64
	over      bool
	snippet   []byte

	stmt Statement
	err  error
	done bool
}

// NewScanner returns a Scanner reading r, with the delimiter ";".
func NewScanner(r io.Reader) *Scanner {
	s := &Scanner{r: r, buf: make([]byte, 256<<10), minFree: 32 << 10,
		maxStmt: DefaultMaxStatement, line: 1, bol: true, start: -1}
	s.setDelimiter(";")
	return s
}

// SetMaxStatement sets the longest statement kept in memory; a longer one
// is returned with Oversize set.
func (s *Scanner) SetMaxStatement(n int) {
	if n < snippetLen {
		n = snippetLen
	}
	s.maxStmt = n
}

// SetSQLMode tells the scanner the session's sql_mode, which decides how
// backslashes and double quotes are read, as the server's status flags
// tell the mysql client. Call it between statements.
func (s *Scanner) SetSQLMode(mode string) {
	s.noBackslash, s.ansiQuotes = false, false
	for m := range strings.SplitSeq(strings.ToUpper(mode), ",") {
		switch strings.TrimSpace(m) {
		case "NO_BACKSLASH_ESCAPES":
			s.noBackslash = true
		case "ANSI_QUOTES", "ANSI":
			s.ansiQuotes = true
		}
	}
}

// Statement returns the statement found by the last successful Scan.
func (s *Scanner) Statement() Statement { return s.stmt }

// Err returns the error that stopped Scan: a read error or a *SyntaxError.
func (s *Scanner) Err() error { return s.err }

// Offset returns how many input bytes the scanner has consumed.
func (s *Scanner) Offset() int64 { return s.base + int64(s.pos) }

func (s *Scanner) setDelimiter(d string) {
	s.delim = []byte(d)
	s.special = [256]bool{}
	for _, c := range []byte("\n\\'\"`#-/") {
		s.special[c] = true
	}
	s.special[d[0]] = true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// fill reads more input after s.end, keeping everything from the start of
// the current statement (or s.pos). It reports whether bytes were added.
func (s *Scanner) fill() bool {
	if s.eof || s.readErr != nil {
		return false
	}
	if s.inStmt && !s.over && s.pos-s.start > s.maxStmt {
		s.over = true
		s.snippet = append(s.snippet[:0], s.buf[s.start:s.start+snippetLen]...)
		s.start = -1
	}
	keep := s.pos
	if s.start >= 0 && s.start < keep {
		keep = s.start
	}
	if keep > 0 && len(s.buf)-s.end < s.minFree {
		copy(s.buf, s.buf[keep:s.end])
		s.end -= keep
		s.pos -= keep
		if s.start >= 0 {
			s.start -= keep
		}
		s.base += int64(keep)
	}
	if len(s.buf)-s.end < s.minFree {
		nb := make([]byte, 2*len(s.buf)+s.minFree)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return n > 0
		}
		if err != nil {
			s.readErr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.readErr = io.ErrNoProgress
	return false
}

// ensure tries to have k bytes from s.pos in the buffer; false at end of
// input. It may move the buffer's contents: re-read s.pos afterwards.
func (s *Scanner) ensure(k int) bool {
	for s.end-s.pos < k {
		if !s.fill() {
			return false
		}
	}
	return true
}

// at returns the byte i positions after s.pos, or 0 past the end of input;
// call ensure first.
func (s *Scanner) at(i int) byte {
	if s.pos+i < s.end {
		return s.buf[s.pos+i]
	}
	return 0
}

// Scan advances to the next statement, which Statement then returns. It
// returns false at the end of the input or on an error (see Err).
func (s *Scanner) Scan() bool {
	if s.done {
		return false
	}
	s.inStmt, s.start, s.over, s.mode = false, -1, false, modeNormal
	for {
		if s.pos >= s.end && !s.fill() {
			return s.finish()
		}
		switch s.mode {
		case modeLineComment:
			s.skipLineComment()
			continue
		case modeComment:
			s.skipComment()
			continue
		case modeString:
			s.skipString()
			continue
		}
		if !s.inStmt {
			handled, emitted := s.statementStart()
			switch {
			case s.done:
				return false
			case emitted:
				return true
			case handled:
				continue
			}
		}
		if s.plain() {
			return true
		}
	}
}

func (s *Scanner) skipLineComment() {
	i := bytes.IndexByte(s.buf[s.pos:s.end], '\n')
	if i < 0 {
		s.pos = s.end
		return
	}
	s.pos += i + 1
	s.line++
	s.bol = true
	s.mode = modeNormal
}

func (s *Scanner) skipComment() {
	seg := s.buf[s.pos:s.end]
	i := bytes.IndexByte(seg, '*')
	if i < 0 {
		s.line += int64(bytes.Count(seg, []byte{'\n'}))
		s.pos = s.end
		return
	}
	s.line += int64(bytes.Count(seg[:i], []byte{'\n'}))
	s.pos += i
	if s.ensure(2) && s.buf[s.pos+1] == '/' {
		s.pos += 2
		s.mode = modeNormal
		return
	}
	s.pos++
}

func (s *Scanner) escapes(q byte) bool {
	return q != '`' && !(q == '"' && s.ansiQuotes) && !s.noBackslash
}

func (s *Scanner) skipString() {
	q := s.quote
	esc := s.escapes(q)
	buf := s.buf[:s.end]
	// Find the next quote (or backslash) with IndexByte in windows of
	// 256 bytes: much faster than a byte loop, and still linear however
	// many escapes or line breaks a string has.
	i := s.pos
	for i < len(buf) {
		w := buf[i:min(i+256, len(buf))]
		stop := len(w)
		if j := bytes.IndexByte(w, q); j >= 0 {
			stop = j
		}
		if esc {
			if j := bytes.IndexByte(w[:stop], '\\'); j >= 0 {
				stop = j
			}
		}
		s.line += int64(bytes.Count(w[:stop], []byte{'\n'}))
		i += stop
		if stop < len(w) {
			break
		}
	}
	s.pos = i
	if i == len(buf) {
		return
	}
	if buf[i] == q {
		s.mode = modeNormal
		s.pos++
		return
	}
	// A backslash: the next byte is taken as is.
	if s.ensure(2) && s.buf[s.pos+1] == '\n' {
		s.line++
	}
	s.pos = min(s.pos+2, s.end)
}

// statementStart handles a byte at s.pos while the statement has no
// content yet: white space, a byte order mark, client command lines and the
// sandbox marker. It reports whether it consumed input and whether it
// produced a statement (a USE line).
func (s *Scanner) statementStart() (handled, emitted bool) {
	c := s.buf[s.pos]
	if isSpace(c) {
		if c == '\n' {
			s.line++
			s.bol = true
		}
		s.pos++
		return true, false
	}
	if c == 0xEF && s.base+int64(s.pos) == 0 && s.ensure(3) &&
		s.buf[s.pos+1] == 0xBB && s.buf[s.pos+2] == 0xBF {
		s.pos += 3
		return true, false
	}
	if s.bol && (c|0x20 == 'd' || c|0x20 == 'u') {
		return s.command()
	}
	if c == '/' && s.ensure(len(sandboxMarker)) &&
		bytes.HasPrefix(s.buf[s.pos:s.end], []byte(sandboxMarker)) {
		s.mode, s.openLine, s.bol = modeComment, s.line, false
		s.pos += len(sandboxMarker)
		return true, false
	}
	return false, false
}

// command recognises the client commands a dump may hold at the start of a
// line that starts a statement: DELIMITER and USE (without delimiter).
func (s *Scanner) command() (handled, emitted bool) {
	// Enough for "delimiter" and the byte after it.
	s.ensure(10)
	word, ok := commandWord(s.buf[s.pos:s.end], s.eof)
	if !ok {
		return false, false
	}
	// The whole line is needed now.
	for seen := 0; bytes.IndexByte(s.buf[s.pos+seen:s.end], '\n') < 0; {
		seen = s.end - s.pos
		if seen > maxCommandLine || !s.fill() {
			break
		}
	}
	line := s.buf[s.pos:s.end]
	next := len(line) // offset just past the line and its '\n'
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, next = line[:i], i+1
	} else if !s.eof {
		return false, false // too long to be a command, or a read error
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	switch word {
	case "delimiter":
		d, ok := delimiterArg(line[len(word):])
		switch {
		case !ok:
			return s.fail("DELIMITER must be followed by a 'delimiter' character or string")
		case strings.Contains(d, `\`):
			return s.fail("DELIMITER cannot contain a backslash character")
		case len(d) > maxDelimiter:
			return s.fail(fmt.Sprintf("DELIMITER %q is longer than %d bytes", d, maxDelimiter))
		}
		s.setDelimiter(d)
		s.pos += next
		s.line++
		s.bol = true
		return true, false
	default: // use
		if bytes.Contains(line, s.delim) || bytes.Contains(line, []byte(`\g`)) {
			return false, false // an SQL statement; the delimiter ends it
		}
		text := bytes.TrimRight(line, " \t\r\v\f")
		s.number++
		s.stmt = Statement{Text: text, Number: s.number, Line: s.line,
			Offset: s.base + int64(s.pos), End: s.base + int64(s.pos+next),
			Size: int64(len(text)), Terminated: true}
		s.pos += next
		s.line++
		s.bol = true
		return true, true
	}
}

// commandWord reports whether b starts with the name of a client command
// handled here followed by a separator (space, tab or end of line) as the
// mysql client's find_command reads it.
func commandWord(b []byte, eof bool) (string, bool) {
	for _, w := range []string{"delimiter", "use"} {
		if len(b) < len(w) || !bytes.EqualFold(b[:len(w)], []byte(w)) {
			continue
		}
		if len(b) == len(w) {
			return w, eof
		}
		switch b[len(w)] {
		case ' ', '\t', '\n':
			return w, true
		case '\r':
			if len(b) == len(w)+1 {
				return w, eof
			}
			return w, b[len(w)+1] == '\n'
		}
	}
	return "", false
}

// delimiterArg reads the argument of a DELIMITER line as the mysql
// client's get_arg does: the first word, or a '…', "…" or `…` quoted string
// in which a doubled quote or a backslash-quote stands for the quote.
func delimiterArg(rest []byte) (string, bool) {
	i := 0
	for i < len(rest) && isSpace(rest[i]) {
		i++
	}
	if i == len(rest) {
		return "", false
	}
	var q byte
	if c := rest[i]; c == '\'' || c == '"' || c == '`' {
		q = c
		i++
	}
	var out []byte
	for ; i < len(rest); i++ {
		c := rest[i]
		if q != 0 && (c == '\\' || c == q) && i+1 < len(rest) && rest[i+1] == q {
			out = append(out, q)
			i++
			continue
		}
		if c == q || (q == 0 && c == ' ') {
			q = 0
			break
		}
		out = append(out, c)
	}
	if len(out) == 0 || q != 0 {
		return "", false
	}
	return string(out), true
}

func (s *Scanner) fail(msg string) (bool, bool) {
	s.err = &SyntaxError{Line: s.line, Msg: msg}
	s.done = true
	return true, false
}

// plain handles bytes outside strings and comments. It reports whether a
// statement was completed.
func (s *Scanner) plain() bool {
	// Fast path: ordinary bytes inside a statement.
	if s.inStmt {
		buf := s.buf[:s.end]
		i := s.pos
		for i < len(buf) && !s.special[buf[i]] {
			i++
		}
		s.pos = i
		if i == len(buf) {
			return false
		}
	}
	c := s.buf[s.pos]
	switch {
	case c == '\n':
		s.line++
		s.bol = true
		s.pos++
		return false
	case c == '\\':
		// A client command character; it protects the next byte.
		s.content()
		if s.ensure(2) && s.buf[s.pos+1] == '\n' {
			s.line++
		}
		s.pos = min(s.pos+2, s.end)
		return false
	case c == s.delim[0] && s.ensure(len(s.delim)) && bytes.HasPrefix(s.buf[s.pos:s.end], s.delim):
		at := s.pos
		s.pos += len(s.delim)
		s.bol = false
		if !s.inStmt {
			return false // empty statement
		}
		s.emit(at, true)
		return true
	case c == '#':
		s.mode, s.bol = modeLineComment, false
		s.pos++
		return false
	case c == '-':
		s.ensure(3)
		if s.at(1) == '-' && (!s.inStmt || s.pos+2 >= s.end || isSpace(s.at(2))) {
			s.mode, s.bol = modeLineComment, false
			s.pos += 2
			return false
		}
	case c == '/':
		s.ensure(4)
		if s.at(1) == '*' && !(s.at(2) == '!' || (s.at(2) == 'M' && s.at(3) == '!')) {
			s.mode, s.openLine, s.bol = modeComment, s.line, false
			s.pos += 2
			return false
		}
	}
	s.content()
	if c == '\'' || c == '"' || c == '`' {
		s.mode, s.quote, s.openLine = modeString, c, s.line
	}
	s.bol = false
	s.pos++
	return false
}

// content marks s.pos as part of the statement, starting it if needed.
func (s *Scanner) content() {
	if !s.inStmt {
		s.inStmt = true
		s.start = s.pos
		s.startOff = s.base + int64(s.pos)
		s.startLine = s.line
	}
}

// emit completes the statement whose text ends before buffer index at.
func (s *Scanner) emit(at int, terminated bool) {
	s.number++
	st := Statement{Number: s.number, Line: s.startLine, Offset: s.startOff,
		End: s.base + int64(s.pos), Terminated: terminated}
	if s.over {
		st.Text, st.Oversize = s.snippet, true
		st.Size = s.base + int64(at) - s.startOff
	} else {
		st.Text = bytes.TrimRight(s.buf[s.start:at], " \t\n\r\v\f")
		st.Size = int64(len(st.Text))
		if len(st.Text) > s.maxStmt { // within the first buffer
			st.Text, st.Oversize = st.Text[:snippetLen], true
		}
	}
	s.stmt = st
}

// finish handles the end of the input.
func (s *Scanner) finish() bool {
	s.done = true
	if s.readErr != nil {
		s.err = s.readErr
		return false
	}
	switch s.mode {
	case modeString:
		kind := map[byte]string{'\'': "'…' string", '"': `"…" string`, '`': "`…` identifier"}[s.quote]
		s.err = &SyntaxError{Line: s.line, Msg: fmt.Sprintf(
			"input ends inside a %s opened on line %d (truncated file?)", kind, s.openLine)}
		return false
	case modeComment:
		s.err = &SyntaxError{Line: s.line, Msg: fmt.Sprintf(
			"input ends inside a /* comment opened on line %d (truncated file?)", s.openLine)}
		return false
	}
	if s.inStmt {
		s.emit(s.end, false)
		return true
	}
	return false
}
