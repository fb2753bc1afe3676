// Package freetext is jitflow's one rule for text that one person types and
// another reads (justifications, comments, revoke reasons, tickets): which
// characters are refused on the way in, because they can make text read
// differently from what it is, and how text from before the rule is shown
// on the way out.
//
// Refused: every C0 control (U+0000 to U+001F) except, in multi-line text,
// the line feed; DEL (U+007F); every C1 control (U+0080 to U+009F); the
// bidirectional formatting characters (the marks U+061C, U+200E, U+200F,
// the embeddings and overrides U+202A to U+202E, the isolates U+2066 to
// U+2069); the line and paragraph separators U+2028 and U+2029, which act
// as line breaks that are not plain ones; and bytes that are not UTF-8.
// A carriage return is refused too: callers that take text from browsers
// (which send CRLF line breaks) or Windows pass it through Normalize first.
package freetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Lines says whether a field may hold line breaks.
type Lines bool

const (
	// SingleLine fields (ticket, role, duration, decision) hold no line break.
	SingleLine Lines = false
	// MultiLine fields (justification, comment, reason) may hold "\n".
	MultiLine Lines = true
)

// Error says which character of a field is refused and where.
type Error struct {
	Field    string
	Position int  // 1-based, in characters
	Char     rune // utf8.RuneError for a byte that is not UTF-8
	Byte     byte // the byte, when Char is utf8.RuneError
	Lines    Lines
}

func (e *Error) Error() string {
	var what string
	if e.Char == utf8.RuneError {
		what = fmt.Sprintf("the byte 0x%02X, which is not UTF-8,", e.Byte)
	} else {
		what = fmt.Sprintf("U+%04X (%s)", e.Char, name(e.Char))
	}
	accepted := "no control characters (not even a line break)"
	if e.Lines == MultiLine {
		accepted = `no control characters other than a plain line break ("\n")`
	}
	return fmt.Sprintf("field %q holds %s at character %d; it accepts UTF-8 text with %s and no bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069)",
		e.Field, what, e.Position, accepted)
}

// Check refuses s when it holds a character the rule refuses, naming field,
// the character and its position.
func Check(field, s string, lines Lines) error {
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return &Error{Field: field, Position: pos, Char: r, Byte: s[i], Lines: lines}
			}
			continue
		}
		if refused(r) && !(r == '\n' && lines == MultiLine) {
			return &Error{Field: field, Position: pos, Char: r, Lines: lines}
		}
	}
	return nil
}

// Normalize turns CRLF line breaks, which browsers send for a textarea,
// into plain ones.
func Normalize(s string) string {
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// Escape shows text for people to read, where it may predate the rule:
// each character the rule refuses becomes a visible escape ("\u202e",
// "\x1b" for an ASCII control character, "\t", "\r", and "\xff" for a
// byte that is not UTF-8), except line breaks, which stay.
func Escape(s string) string { return escape(s, MultiLine) }

// EscapeLine is Escape for one line of output (a table cell, a header): a
// line break becomes "\n" too.
func EscapeLine(s string) string { return escape(s, SingleLine) }

func escape(s string, lines Lines) string {
	if Check("", s, lines) == nil {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
			} else {
				b.WriteRune(r)
			}
		case r == '\n' && lines == MultiLine:
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && refused(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case refused(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func refused(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7F && r <= 0x9F:
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// name says what kind of character a refused one is, for messages.
func name(r rune) string {
	switch {
	case r == '\n':
		return "a line break"
	case r == '\r':
		return "a carriage return"
	case r == '\t':
		return "a tab"
	case r < 0x20, r >= 0x7F && r <= 0x9F:
		return "a control character"
	case r == 0x2028, r == 0x2029:
		return "a line or paragraph separator"
	case r >= 0x202A && r <= 0x202E:
		return "a bidirectional embedding or override"
	case r >= 0x2066 && r <= 0x2069:
		return "a bidirectional isolate"
	}
	return "a bidirectional mark"
}
