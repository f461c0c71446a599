package address

import (
	"errors"
	"testing"
)

// FuzzPersonalBase: PersonalBase never panics, and whatever it returns is either an
// error or a base that makes a valid local part (R5.1, R5.2, R5.10).
func FuzzPersonalBase(f *testing.F) {
	for _, s := range []string{
		"Cầm Thị Duyên", "Nguye\u0302\u0303n Thi\u0323 Hoa", "Ðỗ Văn Nam", "  Lò  Văn   Hương ",
		"Lò\tVăn\tThắng", "", "   ", "H'Mai Niê", "Páo", "\xff\xfe", "李小龍", "\u0300",
		"Nguyễn Văn AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		f.Add(s, 1990)
	}
	rules := DefaultRules()
	f.Fuzz(func(t *testing.T, name string, year int) {
		base, review, err := PersonalBase(name)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.VI == "" || e.EN == "" {
				t.Fatalf("PersonalBase(%q): untyped error %v", name, err)
			}
			return
		}
		// A base is one label; as a local part it may only be reserved ("admin" is a
		// fine base: it becomes admin.<unit>).
		if err := rules.ValidateLocalPart(base); err != nil && !errors.Is(err, ErrReserved) {
			t.Fatalf("PersonalBase(%q) = %q: %v", name, base, err)
		}
		for _, c := range base {
			if c == '.' {
				t.Fatalf("PersonalBase(%q) = %q has a dot", name, base)
			}
		}
		again, review2, err := PersonalBase(base)
		if err != nil || again != base || !review2 {
			t.Fatalf("a base is a one-token name of itself: %q → %q, %v, %v", base, again, review2, err)
		}
		_ = review
		for _, taken := range []Taken{nil, func(lp string) bool { return lp == base+".skhcn" }} {
			lp, err := rules.PersonalLocalPart(base, "skhcn", year, taken)
			if err != nil {
				if !errors.Is(err, ErrTooLong) {
					t.Fatalf("PersonalLocalPart(%q): %v", base, err)
				}
				continue
			}
			if err := rules.ValidateLocalPart(lp); err != nil {
				t.Fatalf("generated %q from %q: %v", lp, name, err)
			}
		}
	})
}
