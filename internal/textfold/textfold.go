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

// latin is the fold of every rune below tableEnd, computed once from Unicode's
// decompositions: the base letter lower-cased, đ→d, 0 for a combining mark and -1
// for a separator. Folding a rune is then one array read, instead of running the
// whole text through NFD (which made indexing a 100 KB message take 4 ms).
// It is read-only after package initialisation.
var latin = buildTable()

const tableEnd = 0x2000 // Latin, Latin Extended, combining marks, Latin Extended Additional (Vietnamese)

func buildTable() *[tableEnd]rune {
	var t [tableEnd]rune
	for r := rune(0); r < tableEnd; r++ {
		t[r] = foldSlow(r)
	}
	return &t
}

// foldSlow folds one rune through NFD: the first base rune of its decomposition.
func foldSlow(r rune) rune {
	switch r {
	case 'đ', 'Đ', 'ð', 'Ð': // R5.1 step 2: đ is a letter, not d plus a mark
		return 'd'
	}
	if unicode.Is(unicode.Mn, r) {
		return 0
	}
	for _, x := range norm.NFD.String(string(r)) {
		if unicode.Is(unicode.Mn, x) {
			continue
		}
		if unicode.IsLetter(x) || unicode.IsDigit(x) {
			return unicode.ToLower(x)
		}
		return -1
	}
	return -1
}

// foldRune is foldSlow with the table for the common ranges.
func foldRune(r rune) rune {
	if r >= 0 && r < tableEnd {
		return latin[r]
	}
	return foldSlow(r)
}

// Search folds text for search indexes and queries: đ→d, combining marks removed,
// lower-case; spaces and punctuation are kept (collapsed to one space) so that words
// stay apart.
func Search(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading space
	for _, r := range s {
		f := foldRune(r)
		switch {
		case f == 0:
			continue
		case f > 0:
			if f < utf8.RuneSelf {
				b.WriteByte(byte(f))
			} else {
				b.WriteRune(f)
			}
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
	for _, r := range s {
		f := foldRune(r)
		if f > 0 && f < utf8.RuneSelf && (f >= 'a' && f <= 'z' || f >= '0' && f <= '9') {
			b.WriteByte(byte(f))
		}
	}
	return b.String()
}
