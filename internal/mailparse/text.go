package mailparse

import (
	"html"
	"io"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"

	"govmail/internal/textfold"
)

// collectText decodes one text part (transfer encoding, then charset) and adds its
// folded words. A decoding error keeps what was decoded before it: partial text is
// still worth finding.
func (w *walker) collectText(header gomessage.Header, mediaType string, body io.Reader) {
	room := w.text.room()
	if room <= 0 {
		return
	}
	// Folding shrinks text: Vietnamese letters take 2–3 bytes before and 1 after,
	// punctuation and spaces collapse, HTML loses its markup. Reading a few times the
	// room left is enough to fill it without decoding megabytes we would throw away.
	limit := int64(room)*4 + 4096
	if mediaType == "text/html" {
		limit *= 4
	}
	// New reports unknown encodings and charsets as errors but still returns an
	// entity whose body is the undecoded text, which is the best we have.
	e, _ := gomessage.New(header, body)
	b, _ := io.ReadAll(io.LimitReader(e.Body, limit))
	s := string(b)
	if mediaType == "text/html" {
		s = stripHTML(s)
	}
	w.text.add(s)
}

// searchText accumulates folded text up to a byte cap.
type searchText struct {
	b    strings.Builder
	max  int
	full bool
}

func newSearchText(max int) *searchText { return &searchText{max: max} }

func (s *searchText) room() int {
	if s.full {
		return 0
	}
	return s.max - s.b.Len()
}

func (s *searchText) String() string { return s.b.String() }

// add folds text and appends it, cutting at a word boundary when the cap is reached.
func (s *searchText) add(text string) {
	if s.full || text == "" {
		return
	}
	f := textfold.Search(text)
	if f == "" {
		return
	}
	room := s.max - s.b.Len()
	if s.b.Len() > 0 {
		room-- // separator
	}
	if room <= 0 {
		s.full = true
		return
	}
	if len(f) > room {
		f = cutWords(f, room)
		s.full = true
		if f == "" {
			return
		}
	}
	if s.b.Len() > 0 {
		s.b.WriteByte(' ')
	}
	s.b.WriteString(f)
}

// cutWords shortens folded text to at most n bytes, at a space if there is one so
// that no half word is indexed, else at a rune boundary.
func cutWords(f string, n int) string {
	if len(f) <= n {
		return f
	}
	if f[n] == ' ' {
		return f[:n]
	}
	if i := strings.LastIndexByte(f[:n], ' '); i > 0 {
		return f[:i]
	}
	for n > 0 && !utf8.RuneStart(f[n]) {
		n--
	}
	return f[:n]
}

// stripHTML keeps the text of an HTML part for search. It is not a sanitiser (webmail
// uses bluemonday for display); it only has to drop markup, scripts, styles and
// comments and decode entities, in linear time on any input.
func stripHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		if len(s) < 2 || !isTagStart(s[1]) {
			// "a < b" is text, as browsers read it.
			b.WriteByte('<')
			s = s[1:]
			continue
		}
		switch {
		case strings.HasPrefix(s, "<!--"):
			s = skipPast(s[4:], "-->")
		case hasTagPrefix(s, "<script"):
			s = skipElement(s, "</script")
		case hasTagPrefix(s, "<style"):
			s = skipElement(s, "</style")
		default:
			s = skipPast(s, ">")
		}
		// Tags usually separate words (<br>, </td><td>); a space keeps them apart.
		b.WriteByte(' ')
	}
	return html.UnescapeString(b.String())
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// hasTagPrefix reports whether s starts with the ASCII tag prefix, case-insensitive,
// followed by the end of the name.
func hasTagPrefix(s, prefix string) bool {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return false
	}
	if len(s) == len(prefix) {
		return true
	}
	switch s[len(prefix)] {
	case '>', ' ', '\t', '\r', '\n', '/':
		return true
	}
	return false
}

// skipElement drops everything up to and including the closing tag.
func skipElement(s, closing string) string {
	for {
		i := strings.IndexByte(s[1:], '<')
		if i < 0 {
			return ""
		}
		s = s[i+1:]
		if hasTagPrefix(s, closing) {
			return skipPast(s, ">")
		}
	}
}

func skipPast(s, end string) string {
	i := strings.Index(s, end)
	if i < 0 {
		return ""
	}
	return s[i+len(end):]
}
