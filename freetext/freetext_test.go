package freetext

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		lines Lines
		char  rune // 0: accepted
		pos   int
	}{
		{"plain", "reader for the incident, 5m", SingleLine, 0, 0},
		{"unicode", "Prüfung für Ärzte — 日本語 😀", SingleLine, 0, 0},
		{"line break in multi-line", "first\nsecond", MultiLine, 0, 0},
		{"line break in single-line", "first\nsecond", SingleLine, '\n', 6},
		{"carriage return", "first\r\nsecond", MultiLine, '\r', 6},
		{"tab", "a\tb", MultiLine, '\t', 2},
		{"escape", "ok\x1b[2J", MultiLine, 0x1b, 3},
		{"nul", "\x00", MultiLine, 0, 1},
		{"del", "a\x7f", MultiLine, 0x7f, 2},
		{"c1", "a\u0085", MultiLine, 0x85, 2},
		{"rlo", "reader, 5m\u202e", MultiLine, 0x202e, 11},
		{"lri", "\u2066x", MultiLine, 0x2066, 1},
		{"pdi", "x\u2069", MultiLine, 0x2069, 2},
		{"lrm", "x\u200e", MultiLine, 0x200e, 2},
		{"rlm", "x\u200f", MultiLine, 0x200f, 2},
		{"alm", "x\u061c", MultiLine, 0x061c, 2},
		{"line separator", "x\u2028", MultiLine, 0x2028, 2},
		{"position counts characters", "äöü\u202e", MultiLine, 0x202e, 4},
		{"replacement character itself", "x\ufffd", MultiLine, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("justification", tc.in, tc.lines)
			if tc.char == 0 && tc.pos == 0 {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Check(%q) = %v, want *Error", tc.in, err)
			}
			if fe.Char != tc.char || fe.Position != tc.pos || fe.Field != "justification" {
				t.Errorf("Check(%q) = %+v, want char %U at %d", tc.in, fe, tc.char, tc.pos)
			}
			if !strings.Contains(err.Error(), `field "justification"`) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestCheckInvalidUTF8(t *testing.T) {
	err := Check("comment", "ok\xffok", MultiLine)
	var fe *Error
	if !errors.As(err, &fe) || fe.Position != 3 || fe.Byte != 0xff {
		t.Fatalf("Check = %#v, want byte 0xff at 3", err)
	}
	if !strings.Contains(err.Error(), "0xFF, which is not UTF-8") {
		t.Errorf("message %q does not say the byte", err)
	}
}

func TestMessageNamesCharacter(t *testing.T) {
	err := Check("reason", "a\u202eb", MultiLine)
	for _, want := range []string{`field "reason"`, "U+202E", "character 2", "override", `"\n"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := Normalize("a\r\nb\rc"); got != "a\nb\rc" {
		t.Errorf("Normalize = %q", got)
	}
}

func TestEscape(t *testing.T) {
	cases := []struct{ in, multi, single string }{
		{"plain text", "plain text", "plain text"},
		{"reader, 5m\u202e", `reader, 5m\u202e`, `reader, 5m\u202e`},
		{"a\nb", "a\nb", `a\nb`},
		{"a\r\n\tb", "a\\r\n\\tb", `a\r\n\tb`},
		{"\x1b[31mred", `\x1b[31mred`, `\x1b[31mred`},
		{"c1\u009b", `c1\u009b`, `c1\u009b`},
		{"bad\xffbyte", `bad\xffbyte`, `bad\xffbyte`},
		{"\u2066iso\u2069", `\u2066iso\u2069`, `\u2066iso\u2069`},
		{"ok\ufffd", "ok\ufffd", "ok\ufffd"},
	}
	for _, tc := range cases {
		if got := Escape(tc.in); got != tc.multi {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.multi)
		}
		if got := EscapeLine(tc.in); got != tc.single {
			t.Errorf("EscapeLine(%q) = %q, want %q", tc.in, got, tc.single)
		}
		if Check("f", EscapeLine(tc.in), SingleLine) != nil {
			t.Errorf("EscapeLine(%q) still holds a refused character", tc.in)
		}
	}
}
