package ldapd

import (
	"slices"
	"strings"
	"testing"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		in   string
		want []rdn
		bad  bool
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "dc=sonla,dc=gov,dc=vn", want: []rdn{{"dc", "sonla"}, {"dc", "gov"}, {"dc", "vn"}}},
		{in: " DC = SonLa ; dc=vn ", want: []rdn{{"dc", "sonla"}, {"dc", "vn"}}},
		{in: "uid=an@sonla.gov.vn,ou=people", want: []rdn{{"uid", "an@sonla.gov.vn"}, {"ou", "people"}}},
		{in: "userid=A,commonName=B,0.9.2342.19200300.100.1.25=c", want: []rdn{{"uid", "a"}, {"cn", "b"}, {"dc", "c"}}},
		{in: `cn=Nguyễn\2C Văn,ou=x`, want: []rdn{{"cn", "nguyễn, văn"}, {"ou", "x"}}},
		{in: `cn=a\,b\+c\\d\"e`, want: []rdn{{"cn", `a,b+c\d"e`}}},
		{in: `cn=\20trailing\20,ou=x`, want: []rdn{{"cn", " trailing "}, {"ou", "x"}}},
		{in: `cn=a=b`, want: []rdn{{"cn", "a=b"}}},
		{in: `cn=`, want: []rdn{{"cn", ""}}},
		{in: "cn=a+sn=b", bad: true},
		{in: "cn=#0403", bad: true},
		{in: `cn="quoted"`, bad: true},
		{in: "not a dn", bad: true},
		{in: "=x", bad: true},
		{in: "cn=x,", bad: true},
		{in: `cn=x\`, bad: true},
		{in: `cn=x\zz`, bad: true},
		{in: `cn=\ff\fe`, bad: true}, // not UTF-8
		{in: "1..2=x", bad: true},
		{in: "c n=x", bad: true},
		{in: "cn=a<b", bad: true},
	}
	for _, tc := range tests {
		got, err := parseDN(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: parsed as %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestEscapeValueRoundTrip(t *testing.T) {
	for _, v := range []string{"plain", " lead", "trail ", "#hash", `a,b+c;d<e>f"g\h`, "nul\x00", "Nguyễn Văn An", "a=b"} {
		dn := "cn=" + escapeValue(v)
		got, err := parseDN(dn)
		if err != nil || len(got) != 1 || got[0].val != strings.ToLower(v) {
			t.Errorf("%q → %q → %v %v", v, dn, got, err)
		}
	}
}
