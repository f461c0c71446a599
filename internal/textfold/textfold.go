// Package textfold owns the one folding function of the project (REQUIREMENTS R5.1,
// DESIGN decision 6): Vietnamese text reduced to lower-case letters without
// diacritics, so that "hop" finds "Cuộc họp" and "Đảng" folds to "dang". Address
// generation and search both call it; neither may fold text another way.
package textfold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// dLike maps đ Đ and the look-alikes ð Ð to 'd' (R5.1 step 2). unicode61 and NFD
// leave đ alone because it is a letter, not a letter plus a mark.
func dLike(r rune) (rune, bool) {
	switch r {
	case 'đ', 'Đ', 'ð', 'Ð':
		return 'd', true
	}
	return r, false
}

// Search folds text for search indexes and queries: đ→d, combining marks removed,
// lower-case; spaces and punctuation are kept (collapsed to one space) so that words
// stay apart.
func Search(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading space
	for _, r := range norm.NFD.String(s) {
		if d, ok := dLike(r); ok {
			r = d
		}
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	out := b.String()
	return strings.TrimRight(out, " ")
}

// Label folds text into an address label (R5.1): NFC, đ→d, marks removed,
// lower-case, and only [a-z0-9] kept.
func Label(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(norm.NFC.String(s)) {
		if d, ok := dLike(r); ok {
			r = d
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
