package ldapd

import (
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"govmail/internal/store"
)

// compile turns RFC 4515 text into our filter, through go-ldap's encoder.
func compile(t testing.TB, text string) *filter {
	t.Helper()
	p, err := ldap.CompileFilter(text)
	if err != nil {
		t.Fatalf("compile %s: %v", text, err)
	}
	f, err := decodeFilter(reparse(t, p), 0)
	if err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return f
}

// reparse encodes and decodes a packet, as the wire does.
func reparse(t testing.TB, p *ber.Packet) *ber.Packet {
	t.Helper()
	q, err := ber.DecodePacketErr(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func testPerson(name, addr string) *entry {
	s := &Server{peopleDN: "ou=people," + testBase} // all personEntry reads
	units := []store.Unit{{ID: 1, Name: "Sở Nội vụ", LocalPart: "snv"}, {ID: 2, ParentID: 1, Name: "Phòng Tổ chức", LocalPart: "tc.snv"}}
	return s.personEntry(&store.Account{Address: addr, DisplayName: name, UnitID: 2, State: store.StateActive}, unitIndex(units))
}

func TestFilterEval(t *testing.T) {
	e := testPerson("Nguyễn Văn Đức", "ducnv.snv@sonla.gov.vn")
	tests := []struct {
		filter string
		want   tri
	}{
		{"(objectClass=*)", tTrue},
		{"(objectClass=INETORGPERSON)", tTrue},
		{"(cn=nguyen van duc)", tTrue},
		{"(cn=NGUYỄN  VĂN ĐỨC)", tTrue},
		{"(cn=nguyen van)", tFalse},
		{"(cn=*van*)", tTrue},
		{"(cn=nguyen*duc)", tTrue},
		{"(cn=duc*)", tFalse},
		{"(cn=*nguyen*duc*van*)", tFalse},
		{"(sn=Nguyễn)", tTrue},
		{"(givenName=duc)", tTrue},
		{"(givenName=van)", tFalse},
		{"(ou=phong to chuc)", tTrue},
		{"(o=so noi vu)", tTrue},
		{"(mail=DUCNV.SNV@sonla.gov.vn)", tTrue},
		{"(mail=*@sonla.gov.vn)", tTrue},
		{"(uid=ducnv*)", tTrue},
		{"(commonName=nguyen van duc)", tTrue},
		{"(2.5.4.3=nguyen van duc)", tTrue},
		{"(title=*)", tFalse},
		{"(title=x)", tUndefined},
		{"(!(title=x))", tUndefined},
		{"(|(title=x)(sn=nguyen))", tTrue},
		{"(&(title=x)(sn=nguyen))", tUndefined},
		{"(&(title=x)(sn=tran))", tFalse},
		{"(cn>=nguyen)", tTrue},
		{"(cn<=nguyen)", tFalse},
		{"(cn:caseExactMatch:=x)", tUndefined},
		{"(&)", tTrue},
		{"(|)", tFalse},
	}
	for _, tc := range tests {
		if got := compile(t, tc.filter).eval(e); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.filter, got, tc.want)
		}
	}
}

func TestFilterHint(t *testing.T) {
	tests := []struct{ filter, want string }{
		{"(cn=*nguyen van*)", "nguyen van"},
		{"(cn=*Nguyễn  Văn*)", "nguyễn văn"},
		{"(cn=ng*van*an)", "van"},
		{"(mail=Duc@Sonla.gov.vn)", "duc@sonla.gov.vn"},
		{"(|(cn=duc*)(mail=duc*)(sn=duc*)(givenName=duc*))", "duc"},
		{"(|(cn=duc*)(mail=hoa*))", ""},
		{"(|(cn=duc*)(ou=duc*))", ""},
		{"(&(objectClass=inetOrgPerson)(|(cn=*hoa*)(mail=*hoa*)))", "hoa"},
		{"(&(cn=*an*)(sn=nguyen))", "nguyen"},
		{"(!(cn=*an*))", ""},
		{"(cn=*)", ""},
		{"(ou=*noi vu*)", ""},
		{"(objectClass=*)", ""},
	}
	for _, tc := range tests {
		if got := compile(t, tc.filter).hint(); got != tc.want {
			t.Errorf("%s: hint %q, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestFilterString(t *testing.T) {
	for _, s := range []string{"(&(objectClass=inetOrgPerson)(|(cn=*nguyễn v*)(mail=a\\2a*)))", "(!(cn>=b))", "(cn~=x)", "(sn=a*b*c)"} {
		if got := compile(t, s).String(); got != s {
			t.Errorf("%s printed as %s", s, got)
		}
	}
}

func TestFilterTooDeep(t *testing.T) {
	text := ""
	for range maxFilterDepth + 2 {
		text += "(!"
	}
	text += "(cn=x)"
	for range maxFilterDepth + 2 {
		text += ")"
	}
	p, err := ldap.CompileFilter(text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeFilter(reparse(t, p), 0); err == nil {
		t.Error("a filter nested too deep was accepted")
	}
}
