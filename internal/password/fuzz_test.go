package password

import (
	"errors"
	"strings"
	"testing"
)

// FuzzCheck: Check never panics; a refusal is an *Error with bilingual violations; an
// acceptance really has every R6.3 class and only printable ASCII.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Abcdef1!", "Mật1!khẩu", "", "\xff\xfe", "Password1!", "Hoant@1990", "a\x00B1!bbbbb"} {
		f.Add(s, "hoant90.skhcn@sonla.gov.vn", "Nguyễn Thu Hòa")
	}
	f.Add("Abcdef1!", "@@@", "\u0300")
	f.Add("Abcdef1!", "", "")
	p := DefaultPolicy()
	f.Fuzz(func(t *testing.T, pw, addr, name string) {
		err := p.Check(pw, CheckContext{Address: addr, FullName: name})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Violations) == 0 {
				t.Fatalf("Check(%q): %v", pw, err)
			}
			for _, v := range e.Violations {
				if v.Code == "" || v.VI == "" || v.EN == "" {
					t.Fatalf("incomplete violation %+v", v)
				}
			}
			return
		}
		if len(pw) < FloorMinLength ||
			!strings.ContainsAny(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
			!strings.ContainsAny(pw, "abcdefghijklmnopqrstuvwxyz") ||
			!strings.ContainsAny(pw, "0123456789") ||
			!strings.ContainsAny(pw, RequiredSpecials) {
			t.Fatalf("accepted %q", pw)
		}
		for i := 0; i < len(pw); i++ {
			if pw[i] < 0x20 || pw[i] > 0x7e {
				t.Fatalf("accepted non-printable-ASCII %q", pw)
			}
		}
	})
}
