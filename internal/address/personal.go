package address

import (
	"strconv"
	"strings"
	"unicode"

	"govmail/internal/textfold"
)

// PersonalBase returns the base of a personal address (R5.2): the last white-space
// separated token folded in full, followed by the first letter of every preceding
// folded token. Tokens that fold to nothing ("-", "(", a lone apostrophe) are dropped
// before the last token is chosen, so punctuation never becomes the given name.
//
// review is true when only one token is left: such a base has no initials and the
// operator should look at it. A name with no token left is refused with ErrEmptyName;
// a base longer than a local part can be is refused with ErrTooLong.
//
// Given-name-first names (Ê Đê "H'Mai Niê") are not detected (R5.2): the operator
// overrides.
func PersonalBase(fullName string) (base string, review bool, err error) {
	// unicode.IsSpace covers tabs, NBSP and every Zs space, as R5.2 asks.
	var folded []string
	for _, tok := range strings.FieldsFunc(fullName, unicode.IsSpace) {
		if f := textfold.Label(tok); f != "" {
			folded = append(folded, f)
		}
	}
	if len(folded) == 0 {
		return "", false, ErrEmptyName
	}
	given := folded[len(folded)-1]
	var b strings.Builder
	b.Grow(len(given) + len(folded) - 1)
	b.WriteString(given)
	for _, f := range folded[:len(folded)-1] {
		// Folded tokens are ASCII, so the first byte is the first letter.
		b.WriteByte(f[0])
	}
	base = b.String()
	if len(base) > MaxLocalPartOctets {
		return "", false, errLocalTooLong(base, MaxLocalPartOctets)
	}
	return base, len(folded) == 1, nil
}

// PersonalLocalPart returns the local part for a person with the given base in unit
// (R5.3, R5.4, R5.8): "<base>.<unit>" when free; on a clash "<base><YY>.<unit>" with
// the two-digit birth year when birthYear > 0 and that is free; else
// "<base><n>.<unit>" for the smallest n ≥ 2 that is free.
//
// A candidate is free when taken says so and it is not reserved (R5.7: reserved names
// share the one namespace). A candidate over the R5.10 limits is refused with
// ErrTooLong rather than skipped: R5.10 says a generated address beyond the limit is
// refused and the operator chooses a shorter one. When every suffix up to MaxSuffix is
// taken the error is ErrTaken.
func (r Rules) PersonalLocalPart(base, unit string, birthYear int, taken Taken) (string, error) {
	if base == "" {
		return "", ErrEmptyName
	}
	// The base must be one label: a dot in it would make "<base>.<unit>" read as a
	// sub-unit address.
	for _, c := range base {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", errBadCharacters(base, c)
		}
	}
	if err := r.validateSyntax(unit); err != nil {
		return "", err
	}
	free := func(lp string) bool {
		return !r.isReserved(lp) && (taken == nil || !taken(lp))
	}
	try := func(suffix string) (string, bool, error) {
		lp := base + suffix + "." + unit
		if err := r.validateSyntax(lp); err != nil {
			return "", false, err
		}
		return lp, free(lp), nil
	}

	if lp, ok, err := try(""); err != nil || ok {
		return lp, err
	}
	if birthYear > 0 {
		// %02d of year mod 100: 2001 → "01", as R5.4 asks.
		yy := strconv.Itoa(birthYear % 100)
		if len(yy) == 1 {
			yy = "0" + yy
		}
		if lp, ok, err := try(yy); err != nil || ok {
			return lp, err
		}
	}
	max := r.MaxSuffix
	if max <= 0 {
		max = DefaultMaxSuffix
	}
	for n := 2; n <= max; n++ {
		if lp, ok, err := try(strconv.Itoa(n)); err != nil || ok {
			return lp, err
		}
	}
	return "", errNoFreeSuffix(base, unit, max)
}
