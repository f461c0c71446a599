package smtpd

import (
	"strings"
	"testing"
)

// Open-relay tricks never yield a usable address with a local part carrying a
// route or a second domain.
func TestSplitAddressRefusesRelayTricks(t *testing.T) {
	bad := []string{
		"user%example.org@sonla.gov.vn", "@a.example,@b.example:user@sonla.gov.vn", "\"user@example.org\"@sonla.gov.vn",
		"user@example.org@sonla.gov.vn", "example.org!user@sonla.gov.vn", "user@", "@sonla.gov.vn", "", "user",
		"a b@sonla.gov.vn", "user@sonla.gov.vn>", strings.Repeat("a", 65) + "@sonla.gov.vn",
	}
	for _, a := range bad {
		if l, d, err := splitAddress(a); err == nil {
			t.Errorf("%q accepted as %q @ %q", a, l, d)
		}
	}
	l, d, err := splitAddress("HoaNT.SKHCN@SonLa.Gov.VN.")
	if err != nil || l != "hoant.skhcn" || d != "sonla.gov.vn" {
		t.Errorf("case/trailing dot: %q %q %v", l, d, err)
	}
}

func FuzzSplitAddress(f *testing.F) {
	for _, s := range []string{"a@b.c", "user%x@y", "\"q\"@d", "a@b@c", "Đ@sonla.gov.vn", "x@sonla.gov.vn."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, d, err := splitAddress(s)
		if err != nil {
			return
		}
		if l == "" || d == "" || strings.ContainsAny(l+d, "@%!\"\\ :,") || len(l) > 64 {
			t.Fatalf("%q → %q @ %q", s, l, d)
		}
		if strings.ToLower(l) != l || strings.ToLower(d) != d {
			t.Fatalf("not lower-cased: %q @ %q", l, d)
		}
	})
}
