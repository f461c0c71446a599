package mailparse

import (
	"bufio"
	"bytes"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/unicode/norm"
)

// HeaderValue returns the decoded values of every field called name (any case) in
// the header block of raw, in order, for IMAP SEARCH HEADER. Values are unfolded,
// RFC 2047 and legacy charsets decoded, NFC, valid UTF-8; fold them with
// textfold.Search before MatchText for accent-insensitive matching. nil means the
// field is absent; an empty field gives "" (SEARCH HEADER name "" matches it). The
// body is never read, so a header-like line in the body does not count, and raw may
// be just the first Parsed.HeaderSize bytes of the stored message.
func HeaderValue(raw []byte, name string) []string {
	view, _ := crlfView(raw[:headerEnd(raw)])
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(view)))
	mh := gomessage.Header{Header: h}
	var out []string
	for fields := mh.FieldsByKey(name); fields.Next(); {
		v, _ := fields.Text() // on error the raw value comes back, which we keep
		out = append(out, displayText(v))
	}
	return out
}

// headerEnd returns the length of the header block of raw: through the blank line
// that ends it; or, when a line is neither a field nor a continuation, up to that
// line (it is body text a broken mailer sent without the blank line); or all of raw.
// The rules are those of textproto.ReadHeader, which cannot tell us where it stopped.
func headerEnd(raw []byte) int {
	if len(raw) > 0 && isSpace(raw[0]) {
		return 0 // ReadHeader refuses a first line that looks like a continuation
	}
	pos := 0
	for pos < len(raw) {
		start := pos
		first := nextLine(raw, pos)
		if len(trimEOL(raw[pos:first])) == 0 {
			return first
		}
		// The field with its continuation lines.
		end := first
		for end < len(raw) && isSpace(raw[end]) {
			end = nextLine(raw, end)
		}
		if !validField(raw[start:end]) {
			return start
		}
		pos = end
	}
	return len(raw)
}

func nextLine(raw []byte, pos int) int {
	if i := bytes.IndexByte(raw[pos:], '\n'); i >= 0 {
		return pos + i + 1
	}
	return len(raw)
}

func trimEOL(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte{'\n'})
	return bytes.TrimSuffix(l, []byte{'\r'})
}

// validField mirrors ReadHeader's test: a colon, and before it a name of visible
// ASCII (spaces around it tolerated). An empty name is skipped there, not an error.
func validField(kv []byte) bool {
	i := bytes.IndexByte(kv, ':')
	if i < 0 {
		return false
	}
	key := bytes.Trim(kv[:i], " \t")
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// displayText makes decoded header text safe to show and to store in a TEXT column:
// valid UTF-8 (8-bit junk becomes U+FFFD; PostgreSQL rejects invalid UTF-8), NFC
// (windows-1258 decodes to base letters plus combining marks), no control characters
// (encoded words can carry CR, LF or NUL).
func displayText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// addressText renders an address field for display; a list that does not parse is
// kept as decoded text so that no sender goes unshown.
func addressText(mh mail.Header, key string) string {
	if mh.Get(key) == "" {
		return ""
	}
	addrs, err := mh.AddressList(key)
	if err != nil || len(addrs) == 0 {
		t, _ := mh.Text(key)
		return displayText(t)
	}
	parts := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a.Name != "" {
			parts = append(parts, a.Name+" <"+a.Address+">")
		} else {
			parts = append(parts, a.Address)
		}
	}
	return displayText(strings.Join(parts, ", "))
}

// messageID keeps a malformed Message-ID as written: it still identifies the
// message for duplicate checks and threading, which an empty string would not.
func messageID(mh mail.Header) string {
	if id, err := mh.MessageID(); err == nil && id != "" {
		return id
	}
	raw := strings.TrimSpace(mh.Get("Message-Id"))
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "<"), ">")
	return displayText(raw)
}
