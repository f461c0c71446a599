package ldapd

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"govmail/internal/textfold"
)

// encodeRequest builds an LDAPMessage as a client would.
func encodeRequest(id int64, op *ber.Packet) []byte {
	m := ber.NewSequence("")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	m.AppendChild(op)
	return m.Bytes()
}

func bindSeed(name, pw string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, appBindRequest, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(octets(name))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, ""))
	return encodeRequest(1, op)
}

func searchSeed(t testing.TB, base string, scope int64, text string, attrs ...string) []byte {
	f, err := ldap.CompileFilter(text)
	if err != nil {
		t.Fatal(err)
	}
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, appSearchRequest, nil, "")
	op.AppendChild(octets(base))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, scope, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 10, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(f)
	list := ber.NewSequence("")
	for _, a := range attrs {
		list.AppendChild(octets(a))
	}
	op.AppendChild(list)
	return encodeRequest(7, op)
}

// FuzzDecodeMessage: no byte sequence read from a client makes the framing
// or the decoder panic, and what decodes can be evaluated and logged.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(bindSeed("uid=an@sonla.gov.vn,ou=people,dc=sonla,dc=gov,dc=vn", "secret"))
	f.Add(bindSeed("", ""))
	f.Add(searchSeed(f, "dc=sonla,dc=gov,dc=vn", 2, "(&(objectClass=inetOrgPerson)(|(cn=*nguyen van*)(mail=nguyen*)(!(sn>=a))(givenName~=x)))", "cn", "mail"))
	f.Add(searchSeed(f, "", 0, "(objectClass=*)", "+"))
	f.Add(searchSeed(f, "ou=people,dc=sonla,dc=gov,dc=vn", 1, "(cn:dn:2.5.13.5:=x)"))
	f.Add(encodeRequest(2, ber.Encode(ber.ClassApplication, ber.TypePrimitive, appUnbindRequest, nil, "")))
	f.Add([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff})
	e := testPerson("Nguyễn Văn An", "annv.skhcn@sonla.gov.vn")
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, err := readFrame(bufio.NewReader(bytes.NewReader(data)), maxRequestBytes)
		if err != nil {
			return
		}
		if len(frame) > len(data) {
			t.Fatalf("frame of %d bytes from %d", len(frame), len(data))
		}
		m, err := decodeMessage(frame)
		if err != nil {
			return
		}
		if m.id < 1 || m.id > maxMessageID {
			t.Fatalf("message ID %d", m.id)
		}
		if r, ok := m.op.(*searchRequest); ok {
			_ = r.filter.String()
			_ = r.filter.eval(e)
			_ = r.filter.hint()
			_ = newSelection(r.attrs)
			_, _ = parseDN(r.base)
		}
	})
}

// FuzzParseDN: what parses prints back to the same names.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"dc=sonla,dc=gov,dc=vn", `cn=Nguyễn\2C Văn,ou=x`, `cn=\20a\20`, "UID = A@B ; OU=People", `cn=a\+b`, "0.9.2342.19200300.100.1.25=vn", "cn=a+sn=b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rdns, err := parseDN(s)
		if err != nil {
			return
		}
		back := formatDN(rdns)
		again, err := parseDN(back)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, back, err)
		}
		if !slices.Equal(again, rdns) {
			t.Fatalf("%q → %v → %q → %v", s, rdns, back, again)
		}
	})
}

// FuzzFilterHint proves the push-down sound: whenever a person entry matches
// a filter, the store query the filter's hint becomes would have returned
// that account (AccountFilter.Query: folded name or lower-cased address
// contains).
func FuzzFilterHint(f *testing.F) {
	f.Add("(cn=*nguyen van*)", "Nguyễn Văn An", "annv.skhcn@sonla.gov.vn")
	f.Add("(|(cn=an*)(mail=an*)(sn=an*)(givenName=an*))", "Trần An", "antt.snv@sonla.gov.vn")
	f.Add("(&(sn=ĐỖ)(givenName=*ánh*))", "Đỗ Thị Ánh", "anhdt@sonla.gov.vn")
	f.Add("(displayName~=le  van)", "Lê-Văn", "levan@sonla.gov.vn")
	f.Add("(uid=*.SNV@*)", "Phạm Ngọc", "ngocp.snv@sonla.gov.vn")
	f.Fuzz(func(t *testing.T, text, name, mail string) {
		addr := strings.ToLower(mail)
		if name == "" || strings.ContainsFunc(addr, func(r rune) bool { return r <= ' ' }) {
			// Every account the directory makes has a name, and no address
			// has spaces; a nameless account is shown by its address, which
			// the folded-name query cannot see (documented in personEntry).
			return
		}
		p, err := ldap.CompileFilter(text)
		if err != nil {
			return
		}
		q, err := ber.DecodePacketErr(p.Bytes())
		if err != nil {
			return
		}
		flt, err := decodeFilter(q, 0)
		if err != nil {
			return
		}
		h := flt.hint()
		if h == "" || flt.eval(testPerson(name, addr)) != tTrue {
			return
		}
		if !strings.Contains(textfold.Search(name), textfold.Search(h)) && !strings.Contains(addr, strings.ToLower(h)) {
			t.Fatalf("%s matches %q <%s> but the store query %q would miss it", text, name, addr, h)
		}
	})
}
