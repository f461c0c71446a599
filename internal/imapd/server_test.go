package imapd

import (
	"bytes"
	"context"
	"mime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"golang.org/x/text/unicode/norm"

	"govmail/internal/store"
)

const pw = "Abcdef1!"

// N1: authentication only under TLS; STARTTLS and implicit TLS both work.
func TestLoginOnlyUnderTLS(t *testing.T) {
	e := newEnv(t)
	e.account("an@sonla.gov.vn", pw, nil)

	t.Run("cleartext connection offers STARTTLS and refuses LOGIN", func(t *testing.T) {
		c, err := imapclient.DialInsecure(e.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		caps, err := c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if !caps.Has(imap.CapStartTLS) || !caps.Has(imap.CapLoginDisabled) || caps.Has(imap.Cap("AUTH=PLAIN")) {
			t.Errorf("cleartext capabilities = %v, want STARTTLS and LOGINDISABLED without AUTH=PLAIN", caps)
		}
		err = c.Login("an@sonla.gov.vn", pw).Wait()
		if code := responseCode(err); code != imap.ResponseCodePrivacyRequired {
			t.Errorf("LOGIN without TLS: err %v, code %q, want PRIVACYREQUIRED", err, code)
		}
	})

	logins := []struct {
		name  string
		login func(t *testing.T) *imapclient.Client
	}{
		{"LOGIN after STARTTLS", func(t *testing.T) *imapclient.Client {
			c := e.dial(nil)
			if err := c.Login("an@sonla.gov.vn", pw).Wait(); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"AUTHENTICATE PLAIN after STARTTLS", func(t *testing.T) *imapclient.Client {
			c := e.dial(nil)
			if err := c.Authenticate(sasl.NewPlainClient("", "an@sonla.gov.vn", pw)); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"LOGIN over implicit TLS", func(t *testing.T) *imapclient.Client {
			c, err := imapclient.DialTLS(e.tlsAddr, &imapclient.Options{TLSConfig: e.clientTLS})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if err := c.Login("AN@sonla.gov.vn", pw).Wait(); err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
	for _, tc := range logins {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.login(t)
			caps, err := c.Capability().Wait()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIMAP4rev2, imap.CapIdle, imap.CapUIDPlus, imap.CapMove,
				imap.CapSpecialUse, imap.CapNamespace, imap.CapUnselect, imap.CapUTF8Accept, imap.CapLiteralPlus, "APPENDLIMIT=26214400"} {
				if !caps.Has(want) {
					t.Errorf("capability %s missing from %v", want, caps)
				}
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("SELECT INBOX: %v", err)
			}
		})
	}
}

// R6.1, R6.2, Điều 8: refusals carry their response code and the reason in
// Vietnamese and English, 7-bit before the client enabled UTF-8.
func TestLoginRefusalCodes(t *testing.T) {
	e := newEnv(t, envOptions{throttle: refuseThrottle{account: "cham@sonla.gov.vn"}})
	e.account("an@sonla.gov.vn", pw, nil)
	e.account("cham@sonla.gov.vn", pw, nil)
	e.account("moi@sonla.gov.vn", pw, func(a *store.Account) { a.MustChange = true })
	e.account("khoa@sonla.gov.vn", pw, func(a *store.Account) { a.State = store.StateLocked })

	cases := []struct {
		name, user, pass string
		code             imap.ResponseCode
		text             []string
	}{
		{"wrong password", "an@sonla.gov.vn", "Wrong1!x", imap.ResponseCodeAuthenticationFailed, []string{"Sai dia chi thu hoac mat khau", "Wrong address or password"}},
		{"unknown account", "ai@sonla.gov.vn", pw, imap.ResponseCodeAuthenticationFailed, []string{"Wrong address or password"}},
		{"password must be changed (R6.1)", "moi@sonla.gov.vn", pw, imap.ResponseCodeExpired, []string{"Mat khau phai duoc doi", "Article 6"}},
		{"locked mailbox (Dieu 8)", "khoa@sonla.gov.vn", pw, imap.ResponseCodeContactAdmin, []string{"Hop thu dang bi khoa", "Article 8"}},
		{"too many failures (throttled)", "cham@sonla.gov.vn", pw, imap.ResponseCodeUnavailable, []string{"Dang nhap sai qua nhieu lan", "Try again in 15 minutes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(nil)
			err := c.Login(tc.user, tc.pass).Wait()
			if code := responseCode(err); code != tc.code {
				t.Fatalf("LOGIN: err %v, code %q, want %q", err, code, tc.code)
			}
			msg := err.(*imap.Error).Text
			for _, want := range tc.text {
				if !strings.Contains(msg, want) {
					t.Errorf("text %q lacks %q", msg, want)
				}
			}
			for _, r := range msg {
				if r >= 0x80 {
					t.Errorf("text %q is not 7-bit before ENABLE", msg)
					break
				}
			}
		})
	}
}

// INBOX plus the special-use folders of every account (RFC 6154).
func TestListSpecialUse(t *testing.T) {
	e := newEnv(t)
	e.account("an@sonla.gov.vn", pw, nil)
	c := e.login("an@sonla.gov.vn", pw, nil)

	all, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]imap.MailboxAttr{"INBOX": "", "Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts,
		"Trash": imap.MailboxAttrTrash, "Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive, store.ReportFolder: ""}
	if len(all) != len(want) {
		t.Errorf("LIST * gave %d mailboxes, want %d", len(all), len(want))
	}
	if len(all) > 0 && all[0].Mailbox != "INBOX" {
		t.Errorf("first mailbox %q, want INBOX", all[0].Mailbox)
	}
	for _, d := range all {
		use, ok := want[d.Mailbox]
		if !ok {
			t.Errorf("unexpected mailbox %q", d.Mailbox)
			continue
		}
		if d.Delim != '/' {
			t.Errorf("%s: delimiter %q", d.Mailbox, d.Delim)
		}
		if use != "" && !slices.Contains(d.Attrs, use) {
			t.Errorf("%s: attrs %v lack %s", d.Mailbox, d.Attrs, use)
		}
		if !slices.Contains(d.Attrs, imap.MailboxAttrHasNoChildren) {
			t.Errorf("%s: attrs %v lack \\HasNoChildren", d.Mailbox, d.Attrs)
		}
	}

	special, err := c.List("", "*", &imap.ListOptions{SelectSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(special) != 5 {
		t.Errorf("LIST (SPECIAL-USE) gave %d mailboxes, want 5", len(special))
	}

	root, err := c.List("", "", nil).Collect()
	if err != nil || len(root) != 1 || root[0].Delim != '/' {
		t.Errorf(`LIST "" "" = %+v, %v; want the "/" delimiter`, root, err)
	}
	lower, err := c.List("", "inbox", nil).Collect()
	if err != nil || len(lower) != 1 || lower[0].Mailbox != "INBOX" {
		t.Errorf(`LIST "" "inbox" = %+v, %v; want INBOX (case-insensitive)`, lower, err)
	}

	if err := c.Unsubscribe("Junk").Wait(); err != nil {
		t.Fatal(err)
	}
	subscribed, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(subscribed) != len(want)-1 {
		t.Errorf("LIST (SUBSCRIBED) after UNSUBSCRIBE Junk gave %d mailboxes, want %d", len(subscribed), len(want)-1)
	}
	for _, d := range subscribed {
		if d.Mailbox == "Junk" || !slices.Contains(d.Attrs, imap.MailboxAttrSubscribed) {
			t.Errorf("LIST (SUBSCRIBED) entry %+v", d)
		}
	}
}

// R3.3: Vietnamese folder names round-trip unchanged, in NFC and NFD, whether
// the client speaks modified UTF-7 or UTF-8.
func TestMailboxNamesVietnamese(t *testing.T) {
	e := newEnv(t)
	e.account("an@sonla.gov.vn", pw, nil)
	c := e.login("an@sonla.gov.vn", pw, nil)
	nfd := norm.NFD.String("Lưu trữ")

	steps := []struct {
		name string
		run  func() error
		code imap.ResponseCode
		want []string // mailboxes besides the defaults, after the step
	}{
		{"CREATE with hierarchy creates the parent", func() error { return c.Create("Công văn/Đến", nil).Wait() }, "",
			[]string{"Công văn", "Công văn/Đến"}},
		{"CREATE of an existing name", func() error { return c.Create("Công văn/Đến", nil).Wait() }, imap.ResponseCodeAlreadyExists,
			[]string{"Công văn", "Công văn/Đến"}},
		{"CREATE in NFD keeps the bytes", func() error { return c.Create(nfd, nil).Wait() }, "",
			[]string{"Công văn", "Công văn/Đến", nfd}},
		{"RENAME takes the sub-folders along", func() error { return c.Rename("Công văn", "Văn bản", nil).Wait() }, "",
			[]string{"Văn bản", "Văn bản/Đến", nfd}},
		{"DELETE of a folder with sub-folders", func() error { return c.Delete("Văn bản").Wait() }, imap.ResponseCodeHasChildren,
			[]string{"Văn bản", "Văn bản/Đến", nfd}},
		{"DELETE of a leaf", func() error { return c.Delete("Văn bản/Đến").Wait() }, "",
			[]string{"Văn bản", nfd}},
		{"DELETE of a missing folder", func() error { return c.Delete("Văn bản/Đến").Wait() }, imap.ResponseCodeNonExistent,
			[]string{"Văn bản", nfd}},
		{"DELETE INBOX", func() error { return c.Delete("INBOX").Wait() }, imap.ResponseCodeCannot,
			[]string{"Văn bản", nfd}},
		{"SELECT of a missing folder", func() error { _, err := c.Select("Không có", nil).Wait(); return err }, imap.ResponseCodeNonExistent,
			[]string{"Văn bản", nfd}},
		{"CREATE-SPECIAL-USE", func() error {
			return c.Create("Đã gửi cũ", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrSent}}).Wait()
		}, "", []string{"Văn bản", nfd, "Đã gửi cũ"}},
	}
	defaults := map[string]bool{}
	for _, m := range store.DefaultMailboxes {
		defaults[m.Name] = true
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.run()
			if code := responseCode(err); code != st.code || (st.code == "" && err != nil) {
				t.Fatalf("err %v, code %q, want %q", err, code, st.code)
			}
			list, err := c.List("", "*", nil).Collect()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range list {
				if !defaults[d.Mailbox] {
					got = append(got, d.Mailbox)
				}
			}
			slices.Sort(got)
			want := slices.Clone(st.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("mailboxes %q, want %q", got, want)
			}
		})
	}

	// On the wire: modified UTF-7 for a client that did not enable UTF-8,
	// raw UTF-8 after ENABLE UTF8=ACCEPT (the library encodes, RFC 6855).
	onWire := []struct {
		name   string
		enable bool
		want   string
	}{
		{"modified UTF-7 by default", false, `"V&AQM-n b&HqM-n"`},
		{"UTF-8 after ENABLE UTF8=ACCEPT", true, `"Văn bản"`},
	}
	for _, tc := range onWire {
		t.Run(tc.name, func(t *testing.T) {
			var buf wire
			wc := e.dialOptions(&imapclient.Options{DebugWriter: &buf})
			if err := wc.Login("an@sonla.gov.vn", pw).Wait(); err != nil {
				t.Fatal(err)
			}
			if tc.enable {
				if _, err := wc.Enable(imap.CapUTF8Accept).Wait(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := wc.List("", "V*", nil).Collect(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("wire lacks %s:\n%s", tc.want, buf.String())
			}
		})
	}
}

// A Vietnamese multipart message with an RFC 2047 subject and an RFC 2231 file name.
func vietnameseMessage() (raw []byte, subject string) {
	subject = "Cuộc họp giao ban tháng 11"
	raw = []byte("From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_An?= <an@sonla.gov.vn>\r\n" +
		"To: binh@sonla.gov.vn\r\n" +
		"Subject: " + mime.BEncoding.Encode("UTF-8", subject) + "\r\n" +
		"Date: Mon, 24 Nov 2025 08:30:00 +0700\r\n" +
		"Message-ID: <giaoban-11@sonla.gov.vn>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"ranh-gioi\"\r\n" +
		"\r\n" +
		"--ranh-gioi\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"K=C3=ADnh g=E1=BB=ADi c=C3=A1c =C4=91=C6=A1n v=E1=BB=8B: h=E1=BB=8Dp l=C3=BAc 8 gi=E1=BB=9D.\r\n" +
		"--ranh-gioi\r\n" +
		"Content-Type: application/pdf\r\n" +
		"Content-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n" +
		"--ranh-gioi--\r\n")
	return raw, subject
}

// DESIGN decision 5 and N2: APPEND answers after the store committed, and the
// stored bytes come back byte for byte; ENVELOPE and BODYSTRUCTURE come from the
// metadata stored at APPEND.
func TestAppendFetch(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	c := e.login("an@sonla.gov.vn", pw, nil)
	raw, subject := vietnameseMessage()
	date := time.Date(2025, 11, 24, 9, 15, 0, 0, time.FixedZone("ICT", 7*3600))

	ac := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagAnswered}, Time: date})
	if _, err := ac.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := ac.Close(); err != nil {
		t.Fatal(err)
	}
	ad, err := ac.Wait()
	if err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	inbox := e.mailbox(a, "INBOX")
	if ad.UID != 1 || ad.UIDValidity != inbox.UIDValidity {
		t.Errorf("APPENDUID %d %d, want %d 1", ad.UIDValidity, ad.UID, inbox.UIDValidity)
	}
	// Committed before the OK: the store has it now.
	if st, err := e.store.MailboxStatus(context.Background(), inbox.ID); err != nil || st.Messages != 1 {
		t.Fatalf("store after APPEND: %+v, %v", st, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 10}}
	whole := &imap.FetchItemBodySection{Peek: true}
	textPart := &imap.FetchItemBodySection{Peek: true, Part: []int{1}}
	subjectField := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}}
	binaryPart := &imap.FetchItemBinarySection{Peek: true, Part: []int{1}}
	cases := []struct {
		name  string
		opts  *imap.FetchOptions
		check func(t *testing.T, m *imapclient.FetchMessageBuffer)
	}{
		{"BODY.PEEK[] is byte-identical", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{whole}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			if got := m.FindBodySection(whole); !bytes.Equal(got, raw) {
				t.Errorf("BODY[] differs:\n%q\nwant\n%q", got, raw)
			}
		}},
		{"BODY.PEEK[]<0.10> is the first 10 bytes", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{partial}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			if got := m.FindBodySection(partial); !bytes.Equal(got, raw[:10]) {
				t.Errorf("BODY[]<0.10> = %q, want %q", got, raw[:10])
			}
		}},
		{"ENVELOPE has the decoded Vietnamese subject and sender", &imap.FetchOptions{Envelope: true}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			env := m.Envelope
			if env == nil {
				t.Fatal("no envelope")
			}
			if env.Subject != subject {
				t.Errorf("subject %q, want %q", env.Subject, subject)
			}
			if len(env.From) != 1 || env.From[0].Name != "Nguyễn Văn An" || env.From[0].Addr() != "an@sonla.gov.vn" {
				t.Errorf("from %+v", env.From)
			}
			if env.MessageID != "giaoban-11@sonla.gov.vn" {
				t.Errorf("message-id %q", env.MessageID)
			}
		}},
		{"BODYSTRUCTURE describes the parts", &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
			if !ok || !strings.EqualFold(mp.Subtype, "mixed") || len(mp.Children) != 2 {
				t.Fatalf("body structure %#v", m.BodyStructure)
			}
			text, ok := mp.Children[0].(*imap.BodyStructureSinglePart)
			if !ok || !strings.EqualFold(text.Type, "text") || !strings.EqualFold(text.Encoding, "quoted-printable") {
				t.Errorf("part 1 %#v", mp.Children[0])
			}
			att, ok := mp.Children[1].(*imap.BodyStructureSinglePart)
			if !ok || att.Filename() != "Báo cáo.pdf" {
				t.Errorf("part 2 %#v, filename %q", mp.Children[1], att.Filename())
			}
		}},
		{"RFC822.SIZE, INTERNALDATE, FLAGS and UID", &imap.FetchOptions{RFC822Size: true, InternalDate: true, Flags: true, UID: true}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			if m.RFC822Size != int64(len(raw)) {
				t.Errorf("size %d, want %d", m.RFC822Size, len(raw))
			}
			if !m.InternalDate.Equal(date) {
				t.Errorf("internal date %v, want %v", m.InternalDate, date)
			}
			if m.UID != 1 || !hasIMAPFlag(m.Flags, imap.FlagAnswered) || hasIMAPFlag(m.Flags, imap.FlagSeen) {
				t.Errorf("uid %d flags %v", m.UID, m.Flags)
			}
		}},
		{"BODY.PEEK[1] is the encoded part, BINARY.PEEK[1] the decoded text", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{textPart}, BinarySection: []*imap.FetchItemBinarySection{binaryPart}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			if got := string(m.FindBodySection(textPart)); !strings.HasPrefix(got, "K=C3=ADnh") {
				t.Errorf("BODY[1] = %q", got)
			}
			if got := string(m.FindBinarySection(binaryPart)); !strings.Contains(got, "Kính gửi các đơn vị: họp lúc 8 giờ.") {
				t.Errorf("BINARY[1] = %q", got)
			}
		}},
		{"BODY.PEEK[HEADER.FIELDS (Subject)]", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{subjectField}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			got := string(m.FindBodySection(subjectField))
			if !strings.HasPrefix(got, "Subject: =?UTF-8?b?") || !strings.HasSuffix(got, "\r\n\r\n") {
				t.Errorf("header fields %q", got)
			}
		}},
		{"BODY[] sets \\Seen and reports it", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}, func(t *testing.T, m *imapclient.FetchMessageBuffer) {
			if !hasIMAPFlag(m.Flags, imap.FlagSeen) {
				t.Errorf("flags after BODY[] %v, want \\Seen", m.Flags)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := c.Fetch(imap.SeqSetNum(1), tc.opts).Collect()
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			tc.check(t, msgs[0])
		})
	}

	refusals := []struct {
		name    string
		mailbox string
		size    int
		code    imap.ResponseCode
	}{
		{"APPEND to a missing folder says TRYCREATE", "Không có", 10, imap.ResponseCodeTryCreate},
		{"APPEND over APPENDLIMIT says TOOBIG", "INBOX", DefaultAppendLimit + 1, imap.ResponseCodeTooBig},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			ac := c.Append(tc.mailbox, int64(tc.size), nil)
			ac.Write(bytes.Repeat([]byte("x"), min(tc.size, 10))) // a refused literal is never sent
			ac.Close()
			_, err := ac.Wait()
			if code := responseCode(err); code != tc.code {
				t.Errorf("err %v, code %q, want %q", err, code, tc.code)
			}
		})
	}
}

// Điều 11 R11.7: a full mailbox refuses APPEND with OVERQUOTA and the reason in
// Vietnamese (with its diacritics once the client enabled UTF-8) and English.
func TestAppendOverQuota(t *testing.T) {
	e := newEnv(t)
	e.account("day@sonla.gov.vn", pw, func(a *store.Account) { a.QuotaBytes = 100 })
	raw, _ := vietnameseMessage()
	cases := []struct {
		name   string
		enable bool
		vi     string
	}{
		{"7-bit client", false, "Hop thu da vuot han muc"},
		{"after ENABLE UTF8=ACCEPT", true, "Hộp thư đã vượt hạn mức"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.login("day@sonla.gov.vn", pw, nil)
			if tc.enable {
				if _, err := c.Enable(imap.CapUTF8Accept).Wait(); err != nil {
					t.Fatal(err)
				}
			}
			ac := c.Append("INBOX", int64(len(raw)), nil)
			ac.Write(raw)
			ac.Close()
			_, err := ac.Wait()
			if code := responseCode(err); code != imap.ResponseCodeOverQuota {
				t.Fatalf("err %v, code %q, want OVERQUOTA", err, code)
			}
			text := err.(*imap.Error).Text
			if !strings.Contains(text, tc.vi) || !strings.Contains(text, "over its quota") {
				t.Errorf("text %q, want %q and the English", text, tc.vi)
			}
		})
	}
}

// Several sessions share one view: a STORE by one is a unilateral FETCH for the
// others, and .SILENT means no FETCH for its author.
func TestFlagsSeenByOtherSessions(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	for i := range 3 {
		e.deliver(a, "", simpleMessage("thu "+string(rune('A'+i)), "noi dung"))
	}
	var rb recorder
	var wa wire
	ca := e.dialOptions(&imapclient.Options{DebugWriter: &wa})
	if err := ca.Login("an@sonla.gov.vn", pw).Wait(); err != nil {
		t.Fatal(err)
	}
	cb := e.login("an@sonla.gov.vn", pw, rb.handler())
	for _, c := range []*imapclient.Client{ca, cb} {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}

	steps := []struct {
		name   string
		change func(t *testing.T)
		seq    uint32
		flag   imap.Flag
		fetchA int // FETCH responses A reads during the step, its NOOP included
	}{
		{"STORE by A reaches B; A gets its answer once", func(t *testing.T) {
			msgs, err := ca.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Collect()
			if err != nil || len(msgs) != 1 || !hasIMAPFlag(msgs[0].Flags, imap.FlagFlagged) {
				t.Fatalf("STORE answer %v, %v", msgs, err)
			}
		}, 2, imap.FlagFlagged, 1},
		{"STORE .SILENT by A reaches B only", func(t *testing.T) {
			if err := ca.Store(imap.SeqSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
		}, 3, imap.FlagAnswered, 0},
		{"a change by another writer (webmail) reaches both", func(t *testing.T) {
			if _, err := e.store.StoreFlags(context.Background(), e.mailbox(a, "INBOX").ID, []uint32{1}, store.FlagsAdd, []string{"$Important"}); err != nil {
				t.Fatal(err)
			}
		}, 1, "$Important", 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mark := len(wa.String())
			st.change(t)
			waitFor(t, time.Second, "B's unilateral FETCH", func() bool {
				if err := cb.Noop().Wait(); err != nil {
					t.Fatal(err)
				}
				_, _, f, _ := rb.snapshot()
				return hasIMAPFlag(f[st.seq], st.flag)
			})
			if err := ca.Noop().Wait(); err != nil {
				t.Fatal(err)
			}
			got := wa.String()[mark:]
			if n := fetchLines(got); n != st.fetchA {
				t.Errorf("A read %d FETCH responses, want %d:\n%s", n, st.fetchA, got)
			}
		})
	}
}

// Expunges reach every session with the sequence numbers of that session's view,
// whoever expunged (another IMAP session, POP3).
func TestExpungeSeenByOtherSessions(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	for i := range 5 {
		e.deliver(a, "", simpleMessage("thu "+string(rune('A'+i)), "noi dung"))
	}
	var rb recorder
	ca := e.login("an@sonla.gov.vn", pw, nil)
	cb := e.login("an@sonla.gov.vn", pw, rb.handler())
	for _, c := range []*imapclient.Client{ca, cb} {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}

	if err := ca.Store(imap.SeqSetNum(2, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	seqs, err := ca.Expunge().Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint32{2, 3}) {
		t.Errorf("A's EXPUNGE responses %v, want [2 3] (UIDs 2 and 4)", seqs)
	}

	// Before B polls, its sequence numbers still name the old messages, and
	// FETCH must not send it EXPUNGEs (RFC 3501 7.4.1).
	msgs, err := cb.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 3 {
		t.Errorf("B's FETCH 3 before polling = %v, %v; want UID 3", msgs, err)
	}
	if _, exp, _, _ := rb.snapshot(); len(exp) != 0 {
		t.Errorf("B got EXPUNGE %v during FETCH", exp)
	}
	if err := cb.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if _, exp, _, _ := rb.snapshot(); !slices.Equal(exp, []uint32{2, 3}) {
		t.Errorf("B's EXPUNGE responses %v, want [2 3]", exp)
	}
	if got := fetchUIDs(t, cb); len(got) != 3 || got[1] != 1 || got[2] != 3 || got[3] != 5 {
		t.Errorf("B's view after expunge %v, want 1→1 2→3 3→5", got)
	}

	// A POP3 DELE+QUIT is a store expunge: both sessions hear of it.
	if _, err := e.store.Expunge(context.Background(), e.mailbox(a, "INBOX").ID, []uint32{3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "B's EXPUNGE of UID 3", func() bool {
		cb.Noop().Wait()
		_, exp, _, _ := rb.snapshot()
		return slices.Equal(exp, []uint32{2, 3, 2})
	})
	seqs, err = ca.Expunge().Collect() // nothing left to expunge; the poll reports UID 3
	if err != nil || !slices.Equal(seqs, []uint32{2}) {
		t.Errorf("A's pending EXPUNGE %v, %v; want [2]", seqs, err)
	}
}

// UIDPLUS: COPY and MOVE answer COPYUID; UID EXPUNGE removes only the listed
// \Deleted messages.
func TestCopyMoveUIDPlus(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	for i := range 4 {
		e.deliver(a, "", simpleMessage("thu "+string(rune('A'+i)), "noi dung"))
	}
	archive, trash := e.mailbox(a, "Archive"), e.mailbox(a, "Trash")
	c := e.login("an@sonla.gov.vn", pw, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	t.Run("COPY answers COPYUID", func(t *testing.T) {
		d, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
		if err != nil {
			t.Fatal(err)
		}
		if d.UIDValidity != archive.UIDValidity || d.SourceUIDs.String() != "1:2" || d.DestUIDs.String() != "1:2" {
			t.Errorf("COPYUID %+v", d)
		}
	})
	t.Run("UID MOVE answers COPYUID and expunges", func(t *testing.T) {
		d, err := c.Move(imap.UIDSetNum(3, 4), "Trash").Wait()
		if err != nil {
			t.Fatal(err)
		}
		if d.UIDValidity != trash.UIDValidity || d.SourceUIDs.String() != "3:4" || d.DestUIDs.String() != "1:2" {
			t.Errorf("COPYUID %+v", d)
		}
		if got := fetchUIDs(t, c); len(got) != 2 {
			t.Errorf("INBOX after MOVE %v, want 2 messages", got)
		}
		if st, _ := e.store.MailboxStatus(context.Background(), trash.ID); st.Messages != 2 {
			t.Errorf("Trash has %d messages", st.Messages)
		}
	})
	t.Run("COPY to a missing folder says TRYCREATE", func(t *testing.T) {
		_, err := c.Copy(imap.SeqSetNum(1), "Không có").Wait()
		if code := responseCode(err); code != imap.ResponseCodeTryCreate {
			t.Errorf("err %v code %q", err, code)
		}
	})
	t.Run("UID EXPUNGE removes only listed \\Deleted messages", func(t *testing.T) {
		if _, err := c.Select("Archive", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		seqs, err := c.UIDExpunge(imap.UIDSetNum(2)).Collect()
		if err != nil || !slices.Equal(seqs, []uint32{2}) {
			t.Errorf("UID EXPUNGE 2: %v, %v", seqs, err)
		}
		if got := fetchUIDs(t, c); len(got) != 1 || got[1] != 1 {
			t.Errorf("Archive after UID EXPUNGE %v, want only UID 1", got)
		}
	})
}

// R5.1 / DESIGN decision 6: SEARCH is accent-insensitive; every key works.
func TestSearch(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	msgs := []string{
		simpleMessage("Cuộc họp giao ban", "Kính gửi các đơn vị"),
		strings.Replace(simpleMessage("Nghị quyết của Đảng ủy tỉnh", "Triển khai nghị quyết"),
			"From: Nguyễn Văn An <an@sonla.gov.vn>", "From: Lò Văn Dũng <dung@sonla.gov.vn>", 1),
		strings.Replace(simpleMessage("Báo cáo tháng", "Đường dây nóng Hà Nội "+strings.Repeat("dữ liệu ", 300)),
			"Date: Mon, 24 Nov 2025", "X-Priority: 1\r\nDate: Mon, 01 Sep 2025", 1),
	}
	for _, m := range msgs {
		e.deliver(a, "", m)
	}
	inbox := e.mailbox(a, "INBOX")
	ctx := context.Background()
	e.store.StoreFlags(ctx, inbox.ID, []uint32{1}, store.FlagsAdd, []string{`\Seen`})
	e.store.StoreFlags(ctx, inbox.ID, []uint32{2}, store.FlagsAdd, []string{`\Flagged`})

	c := e.login("an@sonla.gov.vn", pw, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	hdr := func(k, v string) []imap.SearchCriteriaHeaderField {
		return []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}
	}
	cases := []struct {
		name string
		crit imap.SearchCriteria
		want []uint32
	}{
		{`TEXT "hop" finds "Cuộc họp"`, imap.SearchCriteria{Text: []string{"hop"}}, []uint32{1}},
		{`TEXT "HỌP" in capitals with marks`, imap.SearchCriteria{Text: []string{"HỌP"}}, []uint32{1}},
		{`SUBJECT "dang" finds "Đảng"`, imap.SearchCriteria{Header: hdr("Subject", "dang")}, []uint32{2}},
		{`SUBJECT "Đảng ủy"`, imap.SearchCriteria{Header: hdr("Subject", "Đảng ủy")}, []uint32{2}},
		{`BODY "duong day" finds "Đường dây"`, imap.SearchCriteria{Body: []string{"duong day"}}, []uint32{3}},
		{`FROM "dung" finds "Lò Văn Dũng"`, imap.SearchCriteria{Header: hdr("From", "dung")}, []uint32{2}},
		{`FROM by address`, imap.SearchCriteria{Header: hdr("From", "an@sonla.gov.vn")}, []uint32{1, 3}},
		{`TO "binh" finds "Trần Thị Bình"`, imap.SearchCriteria{Header: hdr("To", "binh")}, []uint32{1, 2, 3}},
		{`HEADER X-Priority "1"`, imap.SearchCriteria{Header: hdr("X-Priority", "1")}, []uint32{3}},
		{`HEADER X-Priority "" (present)`, imap.SearchCriteria{Header: hdr("X-Priority", "")}, []uint32{3}},
		{"SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{1}},
		{"UNSEEN", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{2, 3}},
		{"FLAGGED", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, []uint32{2}},
		{`NOT SUBJECT "hop"`, imap.SearchCriteria{Not: []imap.SearchCriteria{{Header: hdr("Subject", "hop")}}}, []uint32{2, 3}},
		{`OR SUBJECT "hop" SUBJECT "dang"`, imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Header: hdr("Subject", "hop")}, {Header: hdr("Subject", "dang")}}}}, []uint32{1, 2}},
		{"LARGER 2000", imap.SearchCriteria{Larger: 2000}, []uint32{3}},
		{"SMALLER 2000", imap.SearchCriteria{Smaller: 2000}, []uint32{1, 2}},
		{"sequence set 2:*", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 0}}}}, []uint32{2, 3}},
		{"UID 1,3", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(1, 3)}}, []uint32{1, 3}},
		{"SENTBEFORE 1-Oct-2025", imap.SearchCriteria{SentBefore: day(2025, 10, 1)}, []uint32{3}},
		{"SENTSINCE 1-Oct-2025", imap.SearchCriteria{SentSince: day(2025, 10, 1)}, []uint32{1, 2}},
		{"SINCE 1-Jan-2020 (internal date)", imap.SearchCriteria{Since: day(2020, 1, 1)}, []uint32{1, 2, 3}},
		{"BEFORE 1-Jan-2020", imap.SearchCriteria{Before: day(2020, 1, 1)}, nil},
		{"ALL", imap.SearchCriteria{}, []uint32{1, 2, 3}},
		{`TEXT "hop" and UNSEEN`, imap.SearchCriteria{Text: []string{"hop"}, NotFlag: []imap.Flag{imap.FlagSeen}}, nil},
	}
	// An IMAP4rev2 client gets ESEARCH answers, empty ones included.
	rev2 := e.login("an@sonla.gov.vn", pw, nil)
	if _, err := rev2.Enable(imap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := rev2.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			crit := tc.crit
			d, err := rev2.Search(&crit, nil).Wait()
			if err != nil {
				t.Fatalf("IMAP4rev2 SEARCH: %v", err)
			}
			if got := d.AllSeqNums(); !slices.Equal(got, tc.want) {
				t.Errorf("IMAP4rev2 SEARCH = %v, want %v", got, tc.want)
			}
			crit = tc.crit
			d, err = c.Search(&crit, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if got := d.AllSeqNums(); !slices.Equal(got, tc.want) {
				t.Errorf("SEARCH = %v, want %v", got, tc.want)
			}
			crit = tc.crit
			d, err = c.UIDSearch(&crit, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, u := range d.AllUIDs() {
				got = append(got, uint32(u))
			}
			if !slices.Equal(got, tc.want) { // UIDs equal sequence numbers here
				t.Errorf("UID SEARCH = %v, want %v", got, tc.want)
			}
		})
	}
}

// IDLE is woken within a second by any writer of the store: an SMTP delivery, a
// POP3 deletion, a flag change from webmail.
func TestIdleWokenByStoreChanges(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	e.deliver(a, "", simpleMessage("dau tien", "noi dung"))
	inbox := e.mailbox(a, "INBOX")
	var r recorder
	c := e.login("an@sonla.gov.vn", pw, r.handler())
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name   string
		change func()
		done   func() bool
	}{
		{"SMTP delivery → EXISTS", func() { e.deliver(a, "", simpleMessage("moi", "thu moi den")) }, func() bool {
			ex, _, _, _ := r.snapshot()
			return slices.Contains(ex, 2)
		}},
		{"flag change → FETCH", func() {
			e.store.StoreFlags(ctx, inbox.ID, []uint32{2}, store.FlagsAdd, []string{`\Seen`})
		}, func() bool {
			_, _, f, _ := r.snapshot()
			return hasIMAPFlag(f[2], imap.FlagSeen)
		}},
		{"POP3 deletion → EXPUNGE", func() { e.store.Expunge(ctx, inbox.ID, []uint32{1}) }, func() bool {
			_, exp, _, _ := r.snapshot()
			return slices.Equal(exp, []uint32{1})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idle, err := c.Idle()
			if err != nil {
				t.Fatal(err)
			}
			tc.change()
			waitFor(t, time.Second, "the IDLE update", tc.done)
			if err := idle.Close(); err != nil {
				t.Fatal(err)
			}
			if err := idle.Wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// EXAMINE is read-only: no flag changes, and BODY[] does not set \Seen.
func TestExamineIsReadOnly(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	e.deliver(a, "", simpleMessage("chi doc", "noi dung"))
	c := e.login("an@sonla.gov.vn", pw, nil)
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	if code := responseCode(err); code != imap.ResponseCodeCannot {
		t.Errorf("STORE in EXAMINE: %v", err)
	}
	msgs, _, err := e.store.Messages(context.Background(), e.mailbox(a, "INBOX").ID, false)
	if err != nil || len(msgs) != 1 || len(msgs[0].Flags) != 0 {
		t.Errorf("flags after EXAMINE %v, %v; want none", msgs, err)
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Error(err)
	}
}

// STATUS and NAMESPACE.
func TestStatusNamespace(t *testing.T) {
	e := newEnv(t)
	a := e.account("an@sonla.gov.vn", pw, nil)
	e.deliver(a, "", simpleMessage("mot", "noi dung"))
	e.deliver(a, "", simpleMessage("hai", "noi dung"))
	e.store.StoreFlags(context.Background(), e.mailbox(a, "INBOX").ID, []uint32{1}, store.FlagsAdd, []string{`\Seen`})
	c := e.login("an@sonla.gov.vn", pw, nil)
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true, UIDValidity: true, Size: true, AppendLimit: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumMessages != 2 || *st.NumUnseen != 1 || st.UIDNext != 3 || *st.Size == 0 || *st.AppendLimit != DefaultAppendLimit {
		t.Errorf("STATUS %+v", st)
	}
	if _, err := c.Status("Không có", &imap.StatusOptions{NumMessages: true}).Wait(); responseCode(err) != imap.ResponseCodeNonExistent {
		t.Errorf("STATUS of a missing folder: %v", err)
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Errorf("NAMESPACE %+v, %v", ns, err)
	}
}

// The library has no graceful shutdown: Close ends every connection at once,
// idling ones included, and returns only when every session let go of its
// mailbox, so the store can be closed right after.
func TestCloseEndsSessions(t *testing.T) {
	e := newEnv(t)
	e.account("an@sonla.gov.vn", pw, nil)
	c := e.login("an@sonla.gov.vn", pw, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Idle(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- e.srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("client connection still open after Close")
	}
	e.srv.boxes.mu.Lock()
	open := len(e.srv.boxes.open)
	e.srv.boxes.mu.Unlock()
	if open != 0 {
		t.Errorf("%d mailboxes still open after Close", open)
	}
	if _, err := imapclient.DialStartTLS(e.addr, &imapclient.Options{TLSConfig: e.clientTLS}); err == nil {
		t.Error("a new connection was accepted after Close")
	}
}

// R4.2 and R13.1: a message moved or copied into Junk teaches the spam filter
// "spam", one taken out of Junk (but not into Trash) teaches "ham", and one put
// into "Báo cáo" is reported; other moves tell nobody. Each message's own bytes
// are handed over, once per step.
func TestJunkLearningAndReports(t *testing.T) {
	type call struct {
		subject string
		spam    bool // learn only
		account int64
	}
	var mu sync.Mutex
	var learned, reported []call
	subjectOf := func(raw []byte) string {
		_, rest, _ := strings.Cut(string(raw), "\r\nSubject: ")
		s, _, _ := strings.Cut(rest, "\r\n")
		return s
	}
	e := newEnv(t, envOptions{
		learn: func(raw []byte, spam bool) {
			mu.Lock()
			defer mu.Unlock()
			learned = append(learned, call{subject: subjectOf(raw), spam: spam})
		},
		report: func(accountID int64, raw []byte) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, call{subject: subjectOf(raw), account: accountID})
		},
	})
	a := e.account("an@sonla.gov.vn", pw, nil)
	for _, s := range []string{"thu A", "thu B", "thu C"} {
		e.deliver(a, "", simpleMessage(s, "noi dung"))
	}
	c := e.login("an@sonla.gov.vn", pw, nil)
	steps := []struct {
		name          string
		from          string
		do            func() error
		learn, report []call
	}{
		{"MOVE into Junk is spam", "INBOX", func() error { _, err := c.Move(imap.UIDSetNum(1), "Junk").Wait(); return err },
			[]call{{subject: "thu A", spam: true}}, nil},
		{"COPY into Báo cáo is a report", "INBOX", func() error { _, err := c.Copy(imap.UIDSetNum(2), store.ReportFolder).Wait(); return err },
			nil, []call{{subject: "thu B", account: a.ID}}},
		{"COPY into Archive tells nobody", "INBOX", func() error { _, err := c.Copy(imap.UIDSetNum(3), "Archive").Wait(); return err },
			nil, nil},
		{"COPY out of Junk into Trash tells nobody", "Junk", func() error { _, err := c.Copy(imap.UIDSetNum(1), "Trash").Wait(); return err },
			nil, nil},
		{"MOVE out of Junk into INBOX is ham", "Junk", func() error { _, err := c.Move(imap.UIDSetNum(1), "INBOX").Wait(); return err },
			[]call{{subject: "thu A", spam: false}}, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if _, err := c.Select(st.from, nil).Wait(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			learned, reported = nil, nil
			mu.Unlock()
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(learned, st.learn) {
				t.Errorf("learned %+v, want %+v", learned, st.learn)
			}
			if !slices.Equal(reported, st.report) {
				t.Errorf("reported %+v, want %+v", reported, st.report)
			}
		})
	}
}
