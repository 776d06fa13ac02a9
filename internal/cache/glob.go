package cache

import (
	"errors"
	"strings"
)

// glob is a parsed Redis glob pattern (Redis's stringmatchlen: "*", "?",
// "[…]" with "^" and ranges, "\" escapes), byte-wise and case-sensitive.
type glob []globElem

type globKind uint8

const (
	globLiteral globKind = iota
	globAnyOne           // ?
	globAnySeq           // *
	globClass            // […]
)

type globElem struct {
	kind   globKind
	lit    byte
	negate bool
	ranges [][2]byte // a class's members, as inclusive ranges
}

var (
	errUnclosedClass = errors.New(`unclosed "[" (escape a literal one as "\[")`)
	errTrailingSlash = errors.New(`ends with a lone "\" (escape a literal one as "\\")`)
)

// parseGlob parses p as Redis does, but refuses what Redis would read
// leniently (an unclosed class, a trailing backslash): a caller who wrote
// those meant something else.
func parseGlob(p string) (glob, error) {
	var g glob
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if len(g) == 0 || g[len(g)-1].kind != globAnySeq {
				g = append(g, globElem{kind: globAnySeq})
			}
		case '?':
			g = append(g, globElem{kind: globAnyOne})
		case '\\':
			if i+1 == len(p) {
				return nil, errTrailingSlash
			}
			i++
			g = append(g, globElem{kind: globLiteral, lit: p[i]})
		case '[':
			e := globElem{kind: globClass}
			i++
			if i < len(p) && p[i] == '^' {
				e.negate = true
				i++
			}
			closed := false
			for ; i < len(p); i++ {
				switch {
				case p[i] == '\\' && i+1 < len(p):
					i++
					e.ranges = append(e.ranges, [2]byte{p[i], p[i]})
				case p[i] == ']':
					closed = true
				case i+2 < len(p) && p[i+1] == '-':
					lo, hi := p[i], p[i+2]
					if lo > hi {
						lo, hi = hi, lo
					}
					e.ranges = append(e.ranges, [2]byte{lo, hi})
					i += 2
				default:
					e.ranges = append(e.ranges, [2]byte{p[i], p[i]})
				}
				if closed {
					break
				}
			}
			if !closed {
				return nil, errUnclosedClass
			}
			g = append(g, e)
		default:
			g = append(g, globElem{kind: globLiteral, lit: c})
		}
	}
	return g, nil
}

// matches reports whether the element matches the byte c.
func (e globElem) matches(c byte) bool {
	switch e.kind {
	case globLiteral:
		return e.lit == c
	case globAnyOne, globAnySeq:
		return true
	}
	in := false
	for _, r := range e.ranges {
		if r[0] <= c && c <= r[1] {
			in = true
			break
		}
	}
	return in != e.negate
}

// satisfiable reports whether some byte matches the element (an empty
// class "[]" matches none).
func (e globElem) satisfiable() bool {
	return e.kind != globClass || e.negate || len(e.ranges) > 0
}

// wild reports whether the pattern matches more than one string.
func (g glob) wild() bool {
	for _, e := range g {
		if e.kind != globLiteral {
			return true
		}
	}
	return false
}

// literalPrefix is the fixed text every match starts with: the literal
// elements before the first wildcard.
func (g glob) literalPrefix() string {
	var b strings.Builder
	for _, e := range g {
		if e.kind != globLiteral {
			break
		}
		b.WriteByte(e.lit)
	}
	return b.String()
}

// mayMatchPrefix reports whether some string that starts with prefix
// matches the pattern: it runs the pattern as an automaton over prefix and
// asks whether a state survives from which the rest can match something.
func (g glob) mayMatchPrefix(prefix string) bool {
	states := g.closure(map[int]bool{0: true})
	for i := 0; i < len(prefix) && len(states) > 0; i++ {
		next := map[int]bool{}
		for s := range states {
			if s == len(g) || !g[s].matches(prefix[i]) {
				continue
			}
			if g[s].kind == globAnySeq {
				next[s] = true
			} else {
				next[s+1] = true
			}
		}
		states = g.closure(next)
	}
	for s := range states {
		if g.restSatisfiable(s) {
			return true
		}
	}
	return false
}

// closure adds the states reachable by letting a "*" match nothing.
func (g glob) closure(states map[int]bool) map[int]bool {
	for s := range states {
		for t := s; t < len(g) && g[t].kind == globAnySeq; t++ {
			states[t+1] = true
		}
	}
	return states
}

func (g glob) restSatisfiable(from int) bool {
	for _, e := range g[from:] {
		if !e.satisfiable() {
			return false
		}
	}
	return true
}
