package ldapd

import (
	"errors"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"govmail/internal/store"
)

// N3: a bound client finds people by name with or without diacritics.
func TestN3_FoldedNameSearch(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	want := []string{"Nguyễn Văn An", "Nguyễn Văn Bình"} // Khóa is locked, Mới must change but is active
	want = append(want, "Nguyễn Văn Mới")
	sort.Strings(want)
	for _, f := range []string{"(cn=*nguyen van*)", "(cn=*Nguyễn Văn*)", "(cn=*NGUYEN VAN*)", "(displayName=*nguyễn văn*)"} {
		r, err := search(c, testBase, ldap.ScopeWholeSubtree, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got := cns(r)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", f, got, want)
		}
	}
	// The typed text goes to the store's folded index, not a full scan.
	if q := e.rec.last().Query; q != "nguyen van" && q != "nguyễn văn" {
		t.Errorf("store query %q, want the search text", q)
	}
}

// N3: a person's entry is an inetOrgPerson with name parts, address and unit.
func TestN3_PersonEntry(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	an := e.people["Nguyễn Văn An"]
	r, err := search(c, testBase, ldap.ScopeWholeSubtree, "(mail="+an.Address+")")
	if err != nil || len(r.Entries) != 1 {
		t.Fatalf("search: %v, %d entries", err, len(r.Entries))
	}
	en := r.Entries[0]
	if want := "uid=" + an.Address + ",ou=people," + testBase; en.DN != want {
		t.Errorf("dn %q, want %q", en.DN, want)
	}
	checks := map[string]string{
		"cn": "Nguyễn Văn An", "displayName": "Nguyễn Văn An", "sn": "Nguyễn", "givenName": "An",
		"mail": an.Address, "uid": an.Address, "ou": "Sở Khoa học và Công nghệ", "o": "Sở Khoa học và Công nghệ",
	}
	for a, v := range checks {
		if got := en.GetAttributeValue(a); got != v {
			t.Errorf("%s = %q, want %q", a, got, v)
		}
	}
	if oc := en.GetAttributeValues("objectClass"); !slices.Contains(oc, "inetOrgPerson") {
		t.Errorf("objectClass %q", oc)
	}
	if en.GetAttributeValue("title") != "" {
		t.Error("title present; govmail has no titles")
	}
	// Attribute selection: only what is asked, and "1.1" for none.
	r, _ = search(c, "uid="+an.Address+",ou=people,"+testBase, ldap.ScopeBaseObject, "(objectClass=*)", "mail", "SN")
	if len(r.Entries) != 1 || len(r.Entries[0].Attributes) != 2 {
		t.Fatalf("selected attributes: %+v", r.Entries)
	}
	r, _ = search(c, "uid="+an.Address+",ou=people,"+testBase, ldap.ScopeBaseObject, "(objectClass=*)", "1.1")
	if len(r.Entries) != 1 || len(r.Entries[0].Attributes) != 0 {
		t.Fatalf("1.1: %+v", r.Entries)
	}
}

// N3: units are entries too, with their Vietnamese names and addresses.
func TestN3_Units(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	r, err := search(c, "ou=units,"+testBase, ldap.ScopeSingleLevel, "(objectClass=organizationalUnit)")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Entries) != e.units {
		t.Errorf("%d unit entries, want %d", len(r.Entries), e.units)
	}
	r, err = search(c, testBase, ldap.ScopeWholeSubtree, "(&(objectClass=organizationalUnit)(cn=so khoa hoc*))")
	if err != nil || len(r.Entries) != 1 {
		t.Fatalf("unit by folded name: %v %v", err, cns(r))
	}
	u := r.Entries[0]
	if u.DN != "ou=skhcn,ou=units,"+testBase || u.GetAttributeValue("mail") != "skhcn@"+testDomain || u.GetAttributeValue("cn") != "Sở Khoa học và Công nghệ" {
		t.Errorf("unit entry %s %v", u.DN, u.Attributes)
	}
	// The unit's mailbox account is not listed again as a person.
	r, _ = search(c, "ou=people,"+testBase, ldap.ScopeSingleLevel, "(mail=skhcn@"+testDomain+")")
	if len(r.Entries) != 0 {
		t.Errorf("unit mailbox listed as a person: %v", cns(r))
	}
}

// N3: only active accounts are in the address book.
func TestN3_ActiveOnly(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	r, err := search(c, testBase, ldap.ScopeWholeSubtree, "(objectClass=inetOrgPerson)")
	if err != nil {
		t.Fatal(err)
	}
	if got := cns(r); slices.Contains(got, "Nguyễn Văn Khóa") || len(got) != len(testPeople)-1 {
		t.Errorf("people %q", got)
	}
	_, err = search(c, "uid="+e.people["Nguyễn Văn Khóa"].Address+",ou=people,"+testBase, ldap.ScopeBaseObject, "(objectClass=*)")
	if code(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("locked account by DN: %v", err)
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	an := e.people["Nguyễn Văn An"]
	people := "(objectClass=inetOrgPerson)"
	tests := []struct {
		filter string
		want   []string
	}{
		{"(sn=nguyen)", []string{"Nguyễn Thị Hoa", "Nguyễn Văn An", "Nguyễn Văn Bình", "Nguyễn Văn Mới"}},
		{"(givenName=hoa)", []string{"Nguyễn Thị Hoa", "Trần Thị Hoa"}},
		{"(&" + people + "(|(sn=tran)(givenName=duc)))", []string{"Lê Văn Đức", "Trần Thị Hoa"}},
		{"(&" + people + "(!(sn=nguyen)))", []string{"Lê Văn Đức", "Trần Thị Hoa"}},
		{"(cn=nguyen*hoa)", []string{"Nguyễn Thị Hoa"}},
		{"(cn~=nguyen van an)", []string{"Nguyễn Văn An"}},
		{"(mail=" + strings.ToUpper(an.Address) + ")", []string{"Nguyễn Văn An"}},
		{"(&" + people + "(ou=*noi vu*))", []string{"Nguyễn Thị Hoa", "Nguyễn Văn Mới", "Trần Thị Hoa"}},
		{"(&(givenName=*)(sn=le))", []string{"Lê Văn Đức"}},
		// An attribute we do not have is Undefined, and NOT keeps it so.
		{"(&" + people + "(!(telephoneNumber=1)))", nil},
		{"(|(telephoneNumber=1)(givenName=binh))", []string{"Nguyễn Văn Bình"}},
		// Thunderbird's autocomplete filter.
		{"(|(cn=binh*)(mail=binh*)(givenName=binh*)(sn=binh*))", []string{"Nguyễn Văn Bình"}},
		{"(|(cn=*duc*)(mail=*duc*)(sn=*duc*))", []string{"Lê Văn Đức"}},
	}
	for _, tc := range tests {
		r, err := search(c, "ou=people,"+testBase, ldap.ScopeSingleLevel, tc.filter, "cn")
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		got := cns(r)
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.filter, got, tc.want)
		}
	}
	// Pushed to the store: a name typed in Thunderbird; not pushed: negation.
	search(c, testBase, ldap.ScopeWholeSubtree, "(|(cn=binh*)(mail=binh*)(givenName=binh*)(sn=binh*))")
	if q := e.rec.last().Query; q != "binh" {
		t.Errorf("autocomplete query %q, want binh", q)
	}
	search(c, testBase, ldap.ScopeWholeSubtree, "(!(cn=*binh*))")
	if q := e.rec.last().Query; q != "" {
		t.Errorf("negation pushed %q to the store", q)
	}
}

func TestScopes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	an := e.people["Nguyễn Văn An"]
	tests := []struct {
		base  string
		scope int
		want  int
		code  uint16
	}{
		{testBase, ldap.ScopeBaseObject, 1, 0},
		{testBase, ldap.ScopeSingleLevel, 2, 0},
		{"ou=people," + testBase, ldap.ScopeBaseObject, 1, 0},
		{"ou=people," + testBase, ldap.ScopeSingleLevel, len(testPeople) - 1, 0},
		{"ou=people," + testBase, ldap.ScopeWholeSubtree, len(testPeople), 0},
		{"uid=" + an.Address + ",ou=people," + testBase, ldap.ScopeBaseObject, 1, 0},
		{"UID=" + strings.ToUpper(an.Address) + ", OU=People, DC=SonLa,DC=gov,DC=vn", ldap.ScopeWholeSubtree, 1, 0},
		{"mail=" + an.Address + ",ou=people," + testBase, ldap.ScopeBaseObject, 1, 0},
		{"uid=" + an.Address + ",ou=people," + testBase, ldap.ScopeSingleLevel, 0, 0},
		{"ou=skhcn,ou=units," + testBase, ldap.ScopeBaseObject, 1, 0},
		{testBase, ldap.ScopeWholeSubtree, 3 + e.units + len(testPeople) - 1, 0},
		{"uid=nobody@sonla.gov.vn,ou=people," + testBase, ldap.ScopeBaseObject, 0, ldap.LDAPResultNoSuchObject},
		{"ou=nothere,ou=units," + testBase, ldap.ScopeBaseObject, 0, ldap.LDAPResultNoSuchObject},
		{"ou=groups," + testBase, ldap.ScopeWholeSubtree, 0, ldap.LDAPResultNoSuchObject},
		{"dc=example,dc=com", ldap.ScopeWholeSubtree, 0, ldap.LDAPResultNoSuchObject},
		{"not a dn", ldap.ScopeWholeSubtree, 0, ldap.LDAPResultInvalidDNSyntax},
	}
	for _, tc := range tests {
		r, err := search(c, tc.base, tc.scope, "(objectClass=*)", "1.1")
		if code(err) != tc.code {
			t.Errorf("%s scope %d: %v, want code %d", tc.base, tc.scope, err, tc.code)
			continue
		}
		if r != nil && len(r.Entries) != tc.want {
			t.Errorf("%s scope %d: %d entries, want %d", tc.base, tc.scope, len(r.Entries), tc.want)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxResults = 3 })
	c := e.login("Nguyễn Văn An")
	r, err := search(c, testBase, ldap.ScopeWholeSubtree, "(objectClass=inetOrgPerson)")
	if code(err) != ldap.LDAPResultSizeLimitExceeded || len(r.Entries) != 3 {
		t.Errorf("server limit: %v, %d entries", err, len(r.Entries))
	}
	r, err = c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, 0, 2, 0, false, "(objectClass=inetOrgPerson)", nil, nil))
	if code(err) != ldap.LDAPResultSizeLimitExceeded || len(r.Entries) != 2 {
		t.Errorf("client limit: %v, %d entries", err, len(r.Entries))
	}
}

// N1, N3: credentials only under TLS; StartTLS on the plain port.
func TestN1_StartTLSAndBind(t *testing.T) {
	e := newEnv(t, nil)
	an := e.people["Nguyễn Văn An"]
	c := e.dialPlain()
	if err := c.Bind(an.Address, testPassword); code(err) != ldap.LDAPResultConfidentialityRequired {
		t.Fatalf("bind without TLS: %v", err)
	}
	if err := c.StartTLS(e.clientTLS()); err != nil {
		t.Fatalf("starttls: %v", err)
	}
	if err := c.Bind("uid="+an.Address+",ou=people,"+testBase, testPassword); err != nil {
		t.Fatalf("bind by DN after StartTLS: %v", err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "dn:uid="+an.Address+",ou=people,"+testBase {
		t.Errorf("whoami %+v %v", who, err)
	}
	r, err := search(c, testBase, ldap.ScopeWholeSubtree, "(cn=*nguyen van an*)")
	if err != nil || len(r.Entries) != 1 {
		t.Errorf("search after StartTLS: %v %v", err, cns(r))
	}
	if _, err := c.Extended(ldap.NewExtendedRequest(oidStartTLS, nil)); code(err) != ldap.LDAPResultOperationsError {
		t.Errorf("second StartTLS: %v", err)
	}
	if _, err := c.Extended(ldap.NewExtendedRequest("1.2.3.4", nil)); code(err) != ldap.LDAPResultProtocolError {
		t.Errorf("unknown extended operation: %v", err)
	}
	// Other bind name forms.
	for _, name := range []string{"mail=" + an.Address, strings.SplitN(an.Address, "@", 2)[0], "uid=" + an.Address + "," + testBase} {
		if err := c.Bind(name, testPassword); err != nil {
			t.Errorf("bind %q: %v", name, err)
		}
	}
	if err := c.Bind("uid="+an.Address+",ou=other,dc=example", testPassword); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("bind under a foreign base: %v", err)
	}
}

// R6.1, R8.1, R8.6: binds go through auth: wrong password, locked account,
// password to change, throttling.
func TestBindRefusals(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dialTLS()
	an := e.people["Nguyễn Văn An"]
	if err := c.Bind(an.Address, "wrong"); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("wrong password: %v", err)
	}
	if err := c.Bind(e.people["Nguyễn Văn Khóa"].Address, testPassword); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("locked account: %v", err)
	}
	if err := c.Bind(e.people["Nguyễn Văn Mới"].Address, testPassword); code(err) != ldap.LDAPResultInvalidCredentials || !strings.Contains(err.Error(), "mật khẩu") {
		t.Errorf("must change: %v", err)
	}
	if err := c.Bind("nobody@"+testDomain, testPassword); code(err) != ldap.LDAPResultInvalidCredentials {
		t.Errorf("unknown account: %v", err)
	}
	if err := c.UnauthenticatedBind(an.Address); code(err) != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("unauthenticated bind: %v", err)
	}
	// A failed bind leaves the session anonymous.
	if _, err := search(c, testBase, ldap.ScopeWholeSubtree, "(cn=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("search after failed bind: %v", err)
	}
	// The throttle counts LDAP failures with the others: after five, even the
	// right password is refused for a while.
	b := e.people["Nguyễn Văn Bình"].Address
	for range 5 {
		c.Bind(b, "wrong")
	}
	if err := c.Bind(b, testPassword); code(err) != ldap.LDAPResultUnwillingToPerform {
		t.Errorf("throttled bind: %v", err)
	}
}

// N3: the address book is for authenticated clients; the root DSE for all.
func TestAnonymous(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dialPlain()
	r, err := search(c, "", ldap.ScopeBaseObject, "(objectClass=*)")
	if err != nil || len(r.Entries) != 1 {
		t.Fatalf("root DSE: %v", err)
	}
	dse := r.Entries[0]
	if dse.GetAttributeValue("namingContexts") != testBase || dse.GetAttributeValue("supportedLDAPVersion") != "3" ||
		!slices.Contains(dse.GetAttributeValues("supportedExtension"), oidStartTLS) {
		t.Errorf("root DSE %v", dse.Attributes)
	}
	if _, err := search(c, testBase, ldap.ScopeWholeSubtree, "(cn=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("anonymous search over plain: %v", err)
	}
	t2 := e.dialTLS()
	if err := t2.UnauthenticatedBind(""); err != nil {
		t.Fatalf("anonymous bind: %v", err)
	}
	if _, err := search(t2, testBase, ldap.ScopeWholeSubtree, "(cn=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("anonymous search over TLS: %v", err)
	}
}

// The directory is read-only: every write is refused.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	dn := "uid=" + e.people["Nguyễn Văn An"].Address + ",ou=people," + testBase
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("cn", []string{"X"})
	add := ldap.NewAddRequest("uid=x@sonla.gov.vn,ou=people,"+testBase, nil)
	add.Attribute("cn", []string{"X"})
	for name, err := range map[string]error{
		"modify": c.Modify(mod),
		"add":    c.Add(add),
		"delete": c.Del(ldap.NewDelRequest(dn, nil)),
		"moddn":  c.ModifyDN(ldap.NewModifyDNRequest(dn, "uid=y@sonla.gov.vn", true, "")),
		"password": func() error {
			_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("", testPassword, "Mk@moi2026xx"))
			return err
		}(),
	} {
		if code(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("%s: %v", name, err)
		}
	}
	if r, err := search(c, dn, ldap.ScopeBaseObject, "(objectClass=*)"); err != nil || r.Entries[0].GetAttributeValue("cn") != "Nguyễn Văn An" {
		t.Errorf("entry changed: %v", err)
	}
}

// A critical control we do not know refuses the operation (RFC 4511 4.1.11).
func TestCriticalControl(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	ctl := ldap.NewControlString("1.2.3.4.5", true, "")
	_, err := c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, []ldap.Control{ctl}))
	if code(err) != ldap.LDAPResultUnavailableCriticalExtension {
		t.Errorf("critical control: %v", err)
	}
	// Non-critical ones are ignored: a paged search gets everything at once.
	r, err := c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(sn=tran)", nil,
		[]ldap.Control{ldap.NewControlPaging(10)}))
	if err != nil || len(r.Entries) != 1 {
		t.Errorf("paged search: %v", err)
	}
}

// A connection that sends garbage is ended; the server goes on.
func TestGarbage(t *testing.T) {
	e := newEnv(t, nil)
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, // claims 2 GB
		{0x30, 0x80},                         // indefinite length
		{0x30, 0x03, 0x02, 0x01, 0x00},       // message ID 0, no operation
		{0x30, 0x05, 0x02, 0x01, 0x01, 0x7f, 0x00},
	} {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(junk)
		// The server answers with a Notice of Disconnection, or just closes
		// when the message is still incomplete; either way the stream ends.
		_, err = io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%x: connection stays open", junk)
		}
		conn.Close()
	}
	e.login("Nguyễn Văn An")
}

func TestCloseEndsServe(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Nguyễn Văn An")
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := search(c, testBase, ldap.ScopeBaseObject, "(objectClass=*)"); err == nil {
		t.Error("session survived Close")
	}
	if !errors.Is(ErrServerClosed, net.ErrClosed) {
		t.Error("ErrServerClosed does not wrap net.ErrClosed")
	}
}

// A session whose account is locked after the bind loses the directory.
func TestLockedAfterBind(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("Lê Văn Đức")
	acc := e.people["Lê Văn Đức"]
	if err := e.rec.Store.LockAccount(t.Context(), acc.ID, store.LockOperator, store.LockInfo{LockedAt: time.Now(), LockedBy: "op"}); err != nil {
		t.Fatal(err)
	}
	if _, err := search(c, testBase, ldap.ScopeWholeSubtree, "(cn=*)"); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("search by a locked account: %v", err)
	}
}
