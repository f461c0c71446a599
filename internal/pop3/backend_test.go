package pop3

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorMatching(t *testing.T) {
	cause := errors.New("argon2 mismatch")
	withCause := &Error{Code: ErrAuthFailed.Code, Text: ErrAuthFailed.Text, Err: cause}
	wrapped := fmt.Errorf("login alice: %w", withCause)
	if !errors.Is(wrapped, ErrAuthFailed) || errors.Is(wrapped, ErrInUse) {
		t.Error("sentinel matching by code and text")
	}
	if !errors.Is(wrapped, cause) {
		t.Error("cause not reachable through Unwrap")
	}
	if got := withCause.Error(); got != "[AUTH] authentication failed: argon2 mismatch" {
		t.Errorf("Error() = %q", got)
	}
}

func TestCheckSnapshot(t *testing.T) {
	tests := []struct {
		name string
		msgs []MessageInfo
		want string // substring of the error; empty for none
	}{
		{"empty", nil, ""},
		{"good", []MessageInfo{{UID: "a", Size: 1}, {UID: strings.Repeat("~", 70), Size: 0}}, ""},
		{"empty uid", []MessageInfo{{UID: "", Size: 1}}, "UID length"},
		{"long uid", []MessageInfo{{UID: strings.Repeat("x", 71), Size: 1}}, "UID length"},
		{"space in uid", []MessageInfo{{UID: "a b", Size: 1}}, "outside 0x21..0x7E"},
		{"non-ascii uid", []MessageInfo{{UID: "thư", Size: 1}}, "outside 0x21..0x7E"},
		{"duplicate", []MessageInfo{{UID: "a", Size: 1}, {UID: "a", Size: 2}}, "duplicate"},
		{"negative size", []MessageInfo{{UID: "a", Size: -1}}, "negative"},
	}
	for _, tt := range tests {
		err := checkSnapshot(tt.msgs)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	if got := sanitize("a\r\nb\x00c"); got != "a  b c" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("đ", maxReplyText) // 2 bytes each: cut mid-rune
	if got := sanitize(long); len(got) > maxReplyText || !strings.HasPrefix(long, got) {
		t.Errorf("long text cut to %d bytes", len(got))
	}
}
