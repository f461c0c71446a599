package mailparse

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Vietnamese text used throughout, in NFC as typed on a Vietnamese keyboard.
const (
	viSubject = "Báo cáo tháng 11 về Cuộc họp của Đảng ủy"
	viBody    = "Kính gửi các đơn vị: Cuộc họp giao ban của Đảng ủy tỉnh Sơn La."
	viFile    = "Đề án năm 2026.pdf"
	viName    = "Nguyễn Văn An"
)

// crlf turns a readable literal into a wire message.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// pct percent-encodes every byte outside [A-Za-z0-9.] as RFC 2231 wants.
func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '.') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func b64lines(s string) string {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(e) > 76 {
		b.WriteString(e[:76] + "\n")
		e = e[76:]
	}
	b.WriteString(e + "\n")
	return b.String()
}

// enc1258 encodes NFC text as windows-1258 does it: the code page has few
// precomposed Vietnamese letters, so a letter is written as a base it has plus
// combining tone marks (ộ = ô + U+0323).
func enc1258(t testing.TB, s string) string {
	t.Helper()
	enc := charmap.Windows1258.NewEncoder()
	var out strings.Builder
	for _, r := range s {
		if b, err := enc.String(string(r)); err == nil {
			out.WriteString(b)
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		done := false
		for i := 1; i < len(d) && !done; i++ {
			base := norm.NFC.String(string([]rune{d[0], d[i]}))
			rest := string(d[1:i]) + string(d[i+1:])
			bb, err1 := enc.String(base)
			rb, err2 := enc.String(rest)
			if err1 == nil && err2 == nil {
				out.WriteString(bb + rb)
				done = true
			}
		}
		if !done {
			if b, err := enc.String(string(d)); err == nil {
				out.WriteString(b)
				done = true
			}
		}
		if !done {
			t.Fatalf("cannot encode %q in windows-1258", r)
		}
	}
	return out.String()
}

type corpusCase struct {
	name string
	raw  string
}

// corpus is the set of messages every property test runs over, and the fuzz seeds.
func corpus(t testing.TB) []corpusCase {
	plain := crlf(`From: Nguyen Van An <an@sonla.gov.vn>
To: b@sonla.gov.vn, "Tran Thi B" <tb@sonla.gov.vn>
Cc: c@sonla.gov.vn
Subject: Weekly report
Date: Mon, 24 Nov 2026 08:30:00 +0700
Message-ID: <abc123@sonla.gov.vn>
In-Reply-To: <prev1@sonla.gov.vn> <prev2@sonla.gov.vn>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello world.
See you at the meeting.
`)
	rfc2047B := crlf(`From: ` + mime.BEncoding.Encode("utf-8", viName) + ` <an@sonla.gov.vn>
To: vanphong@sonla.gov.vn
Subject: ` + mime.BEncoding.Encode("utf-8", viSubject) + `
Date: Tue, 25 Nov 2026 09:00:00 +0700
Message-ID: <b1@sonla.gov.vn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

` + b64lines(viBody))
	rfc2047QNFD := crlf(`From: ` + mime.QEncoding.Encode("utf-8", norm.NFD.String(viName)) + ` <an@sonla.gov.vn>
To: vanphong@sonla.gov.vn
Subject: ` + mime.QEncoding.Encode("utf-8", norm.NFD.String(viSubject)) + `
Date: Tue, 25 Nov 2026 09:00:00 +0700
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

` + qp(norm.NFD.String(viBody)) + "\n")
	rawUTF8 := crlf(`From: "` + viName + `" <an@sonla.gov.vn>
To: "Trần Thị Bình" <nguyễn.bình@sơnla.việtnam>
Subject: ` + viSubject + `
Date: Wed, 26 Nov 2026 10:15:00 +0700
Message-ID: <utf8@sonla.gov.vn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

` + viBody + "\n")
	win1258 := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: =?windows-1258?Q?` + qpWord(enc1258(t, "Cuộc họp")) + `?=
Date: Wed, 26 Nov 2026 10:15:00 +0700
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1258
Content-Transfer-Encoding: 8bit

` + enc1258(t, viBody) + "\n")
	mixed := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: Attachments
Date: Thu, 27 Nov 2026 07:00:00 +0700
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

This is a multi-part message in MIME format.
--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Xem tệp đính kèm.
--b1
Content-Type: application/pdf; name="de-an.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=utf-8''` + pct(viFile) + `

` + b64lines("%PDF-1.4 fake") + `--b1
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="` + mime.BEncoding.Encode("utf-8", "Tờ trình số 12.docx") + `"

` + b64lines("PK fake docx") + `--b1
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment;
 filename*0*=utf-8''` + pct("Danh sách ") + `;
 filename*1*=` + pct("cán bộ.txt") + `

một hai ba
--b1--
`)
	alternative := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: HTML
Date: Thu, 27 Nov 2026 07:00:00 +0700
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

` + qp("Lịch công tác tuần") + `
--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><head><style>p { color: red; } .bimat {}</style>
<script type="text/javascript">var matkhau = "khongtimthay";</script></head>
<body><!-- ghichu an --><p>L&#7883;ch c&ocirc;ng t&aacute;c <b>tu&#7847;n</b></p>
<p>Ph&ograve;ng&nbsp;H&#224;nh ch&iacute;nh &amp; T&#7893; ch&#7913;c</p> a < b</body></html>
--alt--
`)
	nested := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: Fwd: ` + viSubject + `
Date: Thu, 27 Nov 2026 07:00:00 +0700
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8

Chuyển tiếp.
--outer
Content-Type: message/rfc822
Content-Disposition: inline

From: ` + mime.QEncoding.Encode("utf-8", "Trần Thị Bình") + ` <binh@sonla.gov.vn>
To: an@sonla.gov.vn
Subject: ` + mime.QEncoding.Encode("utf-8", "Giấy mời họp") + `
Date: Wed, 26 Nov 2026 16:00:00 +0700
Message-ID: <inner@sonla.gov.vn>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Mời đồng chí dự họp lúc 14 giờ.
--inner
Content-Type: text/html; charset=utf-8

<p>Mời đồng chí dự họp lúc 14 giờ.</p>
--inner--

--outer--
`)
	signed := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: Signed
Date: Thu, 27 Nov 2026 07:00:00 +0700
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="----sig"

This is an S/MIME signed message

------sig
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Nội dung đã ký số.
------sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

MIIGAAYJKoZIhvcNAQcCoIIF8TCCBe0CAQExDzANBglghkgBZQMEAgEFADALBgkq
------sig--
`)
	enveloped := crlf(`From: an@sonla.gov.vn
To: b@sonla.gov.vn
Subject: Encrypted
MIME-Version: 1.0
Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7m"

MIAGCSqGSIb3DQEHA6CAMIACAQAxggFGMIIBQgIBADAqMBIxEDAOBgNVBAMMB3Rlc3Qg
`)
	related := crlf(`From: an@sonla.gov.vn
Subject: Inline image
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Logo <img src="cid:logo@x"></p>
--rel
Content-Type: image/png; name="logo.png"
Content-ID: <logo@x>
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename="logo.png"

iVBORw0KGgo=
--rel--
`)

	return []corpusCase{
		{"plain", plain},
		{"rfc2047-b-nfc", rfc2047B},
		{"rfc2047-q-nfd", rfc2047QNFD},
		{"raw-utf8-headers", rawUTF8},
		{"windows-1258", win1258},
		{"mixed-attachments", mixed},
		{"alternative-html", alternative},
		{"nested-rfc822", nested},
		{"smime-signed", signed},
		{"smime-enveloped", enveloped},
		{"related-inline-image", related},
		{"no-blank-line", crlf("From: a@b.c\nSubject: no blank line\nthis line is body text\nand this one\n")},
		{"header-only", "From: a@b.c\r\nSubject: header only"},
		{"empty", ""},
		{"cr-only", "From: a@b.c\rSubject: Cu\xe1\xbb\x99c h\xe1\xbb\x8dp\r\rbody with cr only\r"},
		{"lf-only", "From: a@b.c\nSubject: lf\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nhello lf\n--x--\n"},
		{"first-line-space", " From: a@b.c\r\nSubject: x\r\n\r\nbody\r\n"},
		{"broken-boundary", crlf("Subject: broken\nContent-Type: multipart/mixed; boundary=\"declared\"\n\n--other\nContent-Type: text/plain\n\nlost text\n--other--\n")},
		{"missing-boundary", crlf("Subject: no boundary\nContent-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n")},
		{"unterminated-multipart", crlf("Subject: cut\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nfirst part\n--x\nContent-Type: text/plain\n\nsecond part never ends")},
		{"invalid-base64", crlf("Subject: bad b64\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("Cuộc họp bắt đầu")) + "\n!!!*** not base64 ***\n")},
		{"8bit-junk", "Subject: caf\xe9 \xff\xfe\x00junk\r\nFrom: \"Jos\xe9\" <j@x.y>\r\nContent-Type: text/plain\r\n\r\nna\xefve \x00\x01\x02 body \xc3\x28 text\r\n"},
		{"unknown-charset", crlf("Subject: =?x-unknown?Q?abc?=\nContent-Type: text/plain; charset=x-unknown\n\nplain words\n")},
		{"bad-content-type", crlf("Subject: bad ct\nContent-Type: Text/Plain; charset\nContent-Disposition: attachment; filename\n\nbody\n")},
		{"bad-dates", crlf("Date: yesterday\nMessage-ID: not an id\nTo: undisclosed-recipients:;\nFrom: <<<broken\n\nx\n")},
		{"qp-encoded-part-in-multipart", crlf("Content-Type: multipart/mixed; boundary=q\nContent-Transfer-Encoding: quoted-printable\n\n--q\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + qp("Đảng ủy") + "=ZZ broken=\n soft\n--q--\n")},
	}
}

// qp is a quoted-printable body for test messages.
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

// qpWord encodes bytes for the Q encoding of an RFC 2047 word.
func qpWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 32 && c < 127 && c != '=' && c != '?' && c != '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// libraryView is what go-imap's own helpers say about raw, with the repairs Parse
// documents: an empty multipart gets an empty text/plain child, and a text part
// named in upper case gets its line count (marked -1 here: the library does not
// count them; sameStructure takes Parse's number there).
func libraryView(raw []byte) (*imap.Envelope, imap.BodyStructure) {
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	env := imapserver.ExtractEnvelope(h)
	bs := imapserver.ExtractBodyStructure(bytes.NewReader(raw))
	repair(bs)
	return env, bs
}

func repair(bs imap.BodyStructure) {
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		if len(bs.Children) == 0 {
			bs.Children = []imap.BodyStructure{emptyPart()}
		}
		for _, c := range bs.Children {
			repair(c)
		}
	case *imap.BodyStructureSinglePart:
		if bs.Text == nil && strings.EqualFold(bs.Type, "text") {
			bs.Text = &imap.BodyStructureText{NumLines: -1}
		}
		if bs.MessageRFC822 != nil {
			repair(bs.MessageRFC822.BodyStructure)
		}
	}
}

// sameStructure compares Parse's structure with the repaired library one.
func sameStructure(got, want imap.BodyStructure) bool {
	adoptLineCounts(got, want)
	return reflect.DeepEqual(got, want)
}

func adoptLineCounts(got, want imap.BodyStructure) {
	switch w := want.(type) {
	case *imap.BodyStructureMultiPart:
		g, ok := got.(*imap.BodyStructureMultiPart)
		if !ok || len(g.Children) != len(w.Children) {
			return
		}
		for i := range w.Children {
			adoptLineCounts(g.Children[i], w.Children[i])
		}
	case *imap.BodyStructureSinglePart:
		g, ok := got.(*imap.BodyStructureSinglePart)
		if !ok {
			return
		}
		if w.Text != nil && w.Text.NumLines == -1 && g.Text != nil {
			w.Text.NumLines = g.Text.NumLines
		}
		if w.MessageRFC822 != nil && g.MessageRFC822 != nil {
			adoptLineCounts(g.MessageRFC822.BodyStructure, w.MessageRFC822.BodyStructure)
		}
	}
}

// checkWritable asserts what go-imap's BODYSTRUCTURE writer needs in order not to
// panic: no nil structure, Extended always set, at least one child per multipart.
func checkWritable(t testing.TB, bs imap.BodyStructure, depth int) {
	t.Helper()
	if depth > MaxDepth+3 {
		t.Fatalf("structure deeper than MaxDepth: %d", depth)
	}
	switch bs := bs.(type) {
	case *imap.BodyStructureSinglePart:
		if bs.Extended == nil {
			t.Fatal("single part without Extended")
		}
		if strings.EqualFold(bs.Type, "text") && bs.Text == nil {
			t.Fatal("text part without line count")
		}
		if bs.MediaType() == "message/rfc822" || bs.MediaType() == "message/global" {
			if bs.MessageRFC822 == nil {
				t.Fatal("message/rfc822 without envelope and structure")
			}
		}
		if m := bs.MessageRFC822; m != nil {
			if m.BodyStructure == nil {
				t.Fatal("embedded message without structure")
			}
			checkWritable(t, m.BodyStructure, depth+1)
		}
	case *imap.BodyStructureMultiPart:
		if bs.Extended == nil {
			t.Fatal("multipart without Extended")
		}
		if len(bs.Children) == 0 {
			t.Fatal("multipart without children")
		}
		for _, c := range bs.Children {
			checkWritable(t, c, depth+1)
		}
	default:
		t.Fatalf("body structure of type %T", bs)
	}
}

func checkDisplay(t testing.TB, field, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s not valid UTF-8: %q", field, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Errorf("%s has control character: %q", field, s)
			break
		}
	}
	if !norm.NFC.IsNormalString(s) {
		t.Errorf("%s not NFC: %q", field, s)
	}
}

// checkInvariants holds for every input whatsoever.
func checkInvariants(t testing.TB, raw []byte, p *Parsed) {
	t.Helper()
	if p == nil || p.Envelope == nil || p.BodyStructure == nil {
		t.Fatalf("Parse gave nil: %+v", p)
	}
	checkWritable(t, p.BodyStructure, 0)
	for name, s := range map[string]string{"Subject": p.Subject, "From": p.From, "To": p.To, "Cc": p.Cc, "Bcc": p.Bcc, "MessageID": p.MessageID} {
		checkDisplay(t, name, s)
	}
	if !utf8.ValidString(p.SearchText) || len(p.SearchText) > MaxSearchText {
		t.Errorf("SearchText invalid or %d bytes", len(p.SearchText))
	}
	if p.HeaderSize < 0 || p.HeaderSize > int64(len(raw)) {
		t.Errorf("HeaderSize %d of %d", p.HeaderSize, len(raw))
	}
	if !p.Date.Equal(p.Envelope.Date) {
		t.Errorf("Date %v, envelope %v", p.Date, p.Envelope.Date)
	}

	b, err := EncodeMeta(p)
	if err != nil {
		t.Fatalf("EncodeMeta: %v", err)
	}
	env, bs, err := DecodeMeta(b)
	if err != nil {
		t.Fatalf("DecodeMeta: %v", err)
	}
	if !reflect.DeepEqual(env, p.Envelope) {
		t.Errorf("envelope round trip:\n got %#v\nwant %#v", env, p.Envelope)
	}
	if !reflect.DeepEqual(bs, p.BodyStructure) {
		t.Errorf("body structure round trip:\n got %s\nwant %s", dump(bs), dump(p.BodyStructure))
	}
	if e2, err := DecodeEnvelope(b); err != nil || !reflect.DeepEqual(e2, p.Envelope) {
		t.Errorf("DecodeEnvelope: %v %#v", err, e2)
	}

	// Same answers as go-imap's helpers wherever Parse does not cut or repair.
	if !p.Truncated {
		wantEnv, wantBS := libraryView(raw)
		if !sameStructure(p.BodyStructure, wantBS) {
			t.Errorf("body structure differs from ExtractBodyStructure:\n got %s\nwant %s", dump(p.BodyStructure), dump(wantBS))
		}
		if _, converted := crlfView(raw); !converted && !reflect.DeepEqual(p.Envelope, wantEnv) {
			t.Errorf("envelope differs from ExtractEnvelope:\n got %#v\nwant %#v", p.Envelope, wantEnv)
		}
	}
}

// dump prints a structure readably for failure messages.
func dump(bs imap.BodyStructure) string {
	switch bs := bs.(type) {
	case *imap.BodyStructureSinglePart:
		s := fmt.Sprintf("{%s/%s %v id=%q enc=%q size=%d", bs.Type, bs.Subtype, bs.Params, bs.ID, bs.Encoding, bs.Size)
		if bs.Text != nil {
			s += fmt.Sprintf(" lines=%d", bs.Text.NumLines)
		}
		if bs.Extended != nil {
			s += fmt.Sprintf(" ext=%+v", *bs.Extended)
			if d := bs.Extended.Disposition; d != nil {
				s += fmt.Sprintf(" disp=%+v", *d)
			}
		}
		if m := bs.MessageRFC822; m != nil {
			s += fmt.Sprintf(" msg=%+v lines=%d %s", m.Envelope, m.NumLines, dump(m.BodyStructure))
		}
		return s + "}"
	case *imap.BodyStructureMultiPart:
		var parts []string
		for _, c := range bs.Children {
			parts = append(parts, dump(c))
		}
		ext := ""
		if bs.Extended != nil {
			ext = fmt.Sprintf(" ext=%+v", *bs.Extended)
		}
		return fmt.Sprintf("{multipart/%s [%s]%s}", bs.Subtype, strings.Join(parts, " "), ext)
	case nil:
		return "nil"
	default:
		return fmt.Sprintf("%T", bs)
	}
}
