package address

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"govmail/internal/textfold"
)

// word compares one word of a name with a fixed Vietnamese word. NFC makes decomposed
// input (NFD) compare equal; lower-casing makes "PHÒNG" and "Phòng" equal.
func word(tok string, forms ...string) bool {
	w := strings.ToLower(norm.NFC.String(tok))
	for _, f := range forms {
		if w == f {
			return true
		}
	}
	return false
}

// unitWords splits a unit name into words: on white space and on dashes, so that
// "Văn hóa-Xã hội" and "Văn hóa - Xã hội" both give four words (R5.5: hyphens are not
// words). Apostrophes do not split: "H'Mông" is one word.
func unitWords(name string) []string {
	return strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
	})
}

// SuggestAbbreviation suggests a unit abbreviation (R5.5): the first letter of every
// folded word of the name, skipping the word "và" and, when subUnit is true, a leading
// "Phòng". Operators choose the abbreviation; this is only the suggestion, and a clash
// is refused by CheckNew, not resolved here (the operator adds letters: snv → sngv).
//
// "và" is also skipped when written without its tone ("va"), as names typed without
// diacritics are common; no other word folding to "va" (vá, vả, vạ) is skipped.
func SuggestAbbreviation(name string, subUnit bool) (string, error) {
	words := unitWords(name)
	if subUnit && len(words) > 0 && word(words[0], "phòng", "phong") {
		words = words[1:]
	}
	var b strings.Builder
	for _, w := range words {
		if word(w, "và", "va") {
			continue
		}
		if f := textfold.Label(w); f != "" {
			b.WriteByte(f[0])
		}
	}
	if b.Len() == 0 {
		return "", ErrEmptyName
	}
	return b.String(), nil
}

// CommuneSlug returns the local part of a xã or phường (R5.6): the name without its
// leading "Xã" or "Phường", folded. "Phường Chiềng Cơi" → "chiengcoi".
//
// Only the written forms with diacritics are stripped: "Xa" or "Phuong" without tone
// could be the first syllable of a name itself.
func CommuneSlug(name string) (string, error) {
	words := strings.FieldsFunc(name, unicode.IsSpace)
	if len(words) > 0 && word(words[0], "xã", "phường") {
		words = words[1:]
	}
	slug := textfold.Label(strings.Join(words, ""))
	if slug == "" {
		return "", ErrEmptyName
	}
	if len(slug) > MaxLocalPartOctets {
		return "", errLocalTooLong(slug, MaxLocalPartOctets)
	}
	return slug, nil
}

// SubUnitLocalPart returns "<abbr>.<parent>" for a phòng, ban or unit under a sở or a
// xã/phường (R5.1c): "ht" under "skhcn" → "ht.skhcn". Both parts are canonicalised
// (R5.7 stores lower case) and the result is validated; whether it is taken is
// CheckNew's question.
func (r Rules) SubUnitLocalPart(abbr, parent string) (string, error) {
	abbr, parent = Canonical(abbr), Canonical(parent)
	if abbr == "" || parent == "" {
		return "", ErrEmptyLocalPart
	}
	lp := abbr + "." + parent
	if err := r.ValidateLocalPart(lp); err != nil {
		return "", err
	}
	return lp, nil
}
