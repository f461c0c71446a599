package address

import "testing"

func TestLocalAndDomain(t *testing.T) {
	for _, tt := range []struct{ in, local, domain string }{
		{"hoant.skhcn@SonLa.Gov.VN", "hoant.skhcn", "sonla.gov.vn"},
		{"a@b@sonla.gov.vn.", "a@b", "sonla.gov.vn"},
		{"postmaster", "postmaster", ""},
		{"x@", "x", ""},
		{"", "", ""},
	} {
		if got := Local(tt.in); got != tt.local {
			t.Errorf("Local(%q) = %q, want %q", tt.in, got, tt.local)
		}
		if got := Domain(tt.in); got != tt.domain {
			t.Errorf("Domain(%q) = %q, want %q", tt.in, got, tt.domain)
		}
	}
}
