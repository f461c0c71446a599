package mailparse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/text/unicode/norm"

	"govmail/internal/textfold"
)

func single(t *testing.T, bs imap.BodyStructure) *imap.BodyStructureSinglePart {
	t.Helper()
	s, ok := bs.(*imap.BodyStructureSinglePart)
	if !ok {
		t.Fatalf("want a single part, got %s", dump(bs))
	}
	return s
}

func multi(t *testing.T, bs imap.BodyStructure) *imap.BodyStructureMultiPart {
	t.Helper()
	m, ok := bs.(*imap.BodyStructureMultiPart)
	if !ok {
		t.Fatalf("want a multipart, got %s", dump(bs))
	}
	return m
}

func wantSearch(t *testing.T, p *Parsed, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if !MatchText(p.SearchText, q) {
			t.Errorf("search %q not found in %q", q, p.SearchText)
		}
	}
}

func wantNoSearch(t *testing.T, p *Parsed, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if MatchText(p.SearchText, q) {
			t.Errorf("search %q unexpectedly found in %q", q, p.SearchText)
		}
	}
}

// R3.3 (Vietnamese text round-trips unchanged, NFC and NFD input) and N2 (S/MIME
// messages marked, never altered), plus the malformed inputs that must still give a
// usable description, because a parsing failure never loses mail.
func TestParseR33N2(t *testing.T) {
	checks := map[string]func(t *testing.T, p *Parsed, raw string){
		"plain": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "Weekly report" || p.MessageID != "abc123@sonla.gov.vn" {
				t.Errorf("subject %q id %q", p.Subject, p.MessageID)
			}
			if p.From != "Nguyen Van An <an@sonla.gov.vn>" || p.To != "b@sonla.gov.vn, Tran Thi B <tb@sonla.gov.vn>" || p.Cc != "c@sonla.gov.vn" || p.Bcc != "" {
				t.Errorf("addresses %q / %q / %q / %q", p.From, p.To, p.Cc, p.Bcc)
			}
			want := time.Date(2026, 11, 24, 1, 30, 0, 0, time.UTC)
			if !p.Date.Equal(want) {
				t.Errorf("date %v", p.Date)
			}
			if _, off := p.Date.Zone(); off != 7*3600 {
				t.Errorf("date offset %d, want +0700 kept", off)
			}
			if got := p.Envelope.InReplyTo; len(got) != 2 || got[1] != "prev2@sonla.gov.vn" {
				t.Errorf("in-reply-to %v", got)
			}
			if p.HeaderSize != int64(strings.Index(raw, "\r\n\r\n")+4) {
				t.Errorf("HeaderSize %d", p.HeaderSize)
			}
			s := single(t, p.BodyStructure)
			if s.MediaType() != "text/plain" || s.Size != uint32(len(raw))-uint32(p.HeaderSize) || s.Text.NumLines != 2 {
				t.Errorf("structure %s", dump(s))
			}
			if p.SearchText != "hello world see you at the meeting" {
				t.Errorf("search text %q", p.SearchText)
			}
			if p.HasAttachment || p.SMIME || p.Truncated {
				t.Errorf("flags %v %v %v", p.HasAttachment, p.SMIME, p.Truncated)
			}
		},
		"rfc2047-b-nfc": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != viSubject || p.Envelope.Subject != viSubject {
				t.Errorf("subject %q envelope %q", p.Subject, p.Envelope.Subject)
			}
			if p.From != viName+" <an@sonla.gov.vn>" || p.Envelope.From[0].Name != viName {
				t.Errorf("from %q", p.From)
			}
			wantSearch(t, p, "kinh gui", "Đảng", "dang uy", "SON LA")
		},
		"rfc2047-q-nfd": func(t *testing.T, p *Parsed, raw string) {
			// Display and search see NFC; the envelope carries what was sent (R3.3:
			// unchanged), so a client that sent NFD gets NFD back.
			if p.Subject != viSubject {
				t.Errorf("subject %q, want NFC %q", p.Subject, viSubject)
			}
			if p.Envelope.Subject != norm.NFD.String(viSubject) {
				t.Errorf("envelope subject %q changed", p.Envelope.Subject)
			}
			if p.From != viName+" <an@sonla.gov.vn>" {
				t.Errorf("from %q", p.From)
			}
			wantSearch(t, p, "cuộc họp", "cuoc hop", "đơn vị")
		},
		"raw-utf8-headers": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != viSubject || p.Envelope.Subject != viSubject {
				t.Errorf("subject %q", p.Subject)
			}
			if p.To != "Trần Thị Bình <nguyễn.bình@sơnla.việtnam>" {
				t.Errorf("to %q", p.To)
			}
			if a := p.Envelope.To; len(a) != 1 || a[0].Mailbox != "nguyễn.bình" || a[0].Host != "sơnla.việtnam" {
				t.Errorf("envelope to %+v", a)
			}
			wantSearch(t, p, "tinh son la")
		},
		"windows-1258": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "Cuộc họp" {
				t.Errorf("subject %q (%+q), want NFC Cuộc họp", p.Subject, p.Subject)
			}
			wantSearch(t, p, "Kính gửi", "cuoc hop giao ban", "dang uy", "đơn vị")
		},
		"mixed-attachments": func(t *testing.T, p *Parsed, raw string) {
			m := multi(t, p.BodyStructure)
			if len(m.Children) != 4 || m.Subtype != "mixed" {
				t.Fatalf("structure %s", dump(m))
			}
			if got := single(t, m.Children[1]).Filename(); got != viFile {
				t.Errorf("RFC 2231 file name %q", got)
			}
			if got := single(t, m.Children[2]).Filename(); got != "Tờ trình số 12.docx" {
				t.Errorf("RFC 2047 file name %q", got)
			}
			if got := single(t, m.Children[3]).Filename(); got != "Danh sách cán bộ.txt" {
				t.Errorf("RFC 2231 continued file name %q", got)
			}
			if !p.HasAttachment {
				t.Error("HasAttachment not set")
			}
			wantSearch(t, p, "de an nam 2026", "to trinh so 12 docx", "danh sach can bo", "xem tep dinh kem", "mot hai ba")
			wantNoSearch(t, p, "multi part message") // the preamble is not text
		},
		"alternative-html": func(t *testing.T, p *Parsed, raw string) {
			wantSearch(t, p, "lich cong tac tuan", "phong hanh chinh to chuc", "a b")
			wantNoSearch(t, p, "khongtimthay", "color", "bimat", "ghichu", "html", "nbsp")
			if p.HasAttachment {
				t.Error("alternative bodies are not attachments")
			}
		},
		"nested-rfc822": func(t *testing.T, p *Parsed, raw string) {
			m := multi(t, p.BodyStructure)
			fwd := single(t, m.Children[1])
			if fwd.MessageRFC822 == nil || fwd.MessageRFC822.Envelope.Subject != "Giấy mời họp" {
				t.Fatalf("embedded message %s", dump(fwd))
			}
			if inner := multi(t, fwd.MessageRFC822.BodyStructure); inner.Subtype != "alternative" || len(inner.Children) != 2 {
				t.Errorf("inner %s", dump(inner))
			}
			if !p.HasAttachment {
				t.Error("a forwarded message is an attachment")
			}
			wantSearch(t, p, "chuyen tiep", "giay moi hop", "moi dong chi du hop luc 14 gio")
		},
		"smime-signed": func(t *testing.T, p *Parsed, raw string) {
			if !p.SMIME {
				t.Error("SMIME not set")
			}
			if p.HasAttachment {
				t.Error("the signature is not an attachment")
			}
			wantSearch(t, p, "noi dung da ky so")
			wantNoSearch(t, p, "smime", "p7s")
		},
		"smime-enveloped": func(t *testing.T, p *Parsed, raw string) {
			if !p.SMIME || p.HasAttachment {
				t.Errorf("SMIME %v HasAttachment %v", p.SMIME, p.HasAttachment)
			}
		},
		"bad-content-type": func(t *testing.T, p *Parsed, raw string) {
			if s := single(t, p.BodyStructure); s.Type != "Text" || s.Text == nil || s.Text.NumLines != 1 {
				t.Errorf("structure %s, want the library's reading", dump(s))
			}
			wantSearch(t, p, "body")
			if !p.HasAttachment {
				t.Error("disposition \"attachment; filename\" is an attachment")
			}
		},
		"related-inline-image": func(t *testing.T, p *Parsed, raw string) {
			if p.HasAttachment {
				t.Error("an image inside the HTML is not an attachment")
			}
			wantSearch(t, p, "logo")
		},
		"no-blank-line": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "no blank line" {
				t.Errorf("subject %q", p.Subject)
			}
			if want := int64(strings.Index(raw, "this line")); p.HeaderSize != want {
				t.Errorf("HeaderSize %d, want %d", p.HeaderSize, want)
			}
			wantSearch(t, p, "this line is body text", "and this one")
		},
		"header-only": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "header only" || p.HeaderSize != int64(len(raw)) {
				t.Errorf("subject %q HeaderSize %d", p.Subject, p.HeaderSize)
			}
			if s := single(t, p.BodyStructure); s.Size != 0 {
				t.Errorf("size %d", s.Size)
			}
		},
		"empty": func(t *testing.T, p *Parsed, raw string) {
			if s := single(t, p.BodyStructure); s.MediaType() != "text/plain" || s.Size != 0 {
				t.Errorf("structure %s", dump(s))
			}
			if p.HeaderSize != 0 || p.SearchText != "" || !p.Date.IsZero() {
				t.Errorf("%+v", p)
			}
		},
		"cr-only": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "Cuộc họp" || p.From != "a@b.c" {
				t.Errorf("subject %q from %q", p.Subject, p.From)
			}
			wantSearch(t, p, "body with cr only")
			// The structure is the raw bytes' one, one text part, as the sections
			// served from those bytes are.
			if s := single(t, p.BodyStructure); s.Size != 0 {
				t.Errorf("structure %s", dump(s))
			}
		},
		"lf-only": func(t *testing.T, p *Parsed, raw string) {
			if m := multi(t, p.BodyStructure); len(m.Children) != 1 {
				t.Errorf("structure %s", dump(m))
			}
			wantSearch(t, p, "hello lf")
		},
		"first-line-space": func(t *testing.T, p *Parsed, raw string) {
			if p.HeaderSize != 0 {
				t.Errorf("HeaderSize %d", p.HeaderSize)
			}
			wantSearch(t, p, "from", "body")
		},
		"broken-boundary": func(t *testing.T, p *Parsed, raw string) {
			m := multi(t, p.BodyStructure)
			if len(m.Children) != 1 || single(t, m.Children[0]).Size != 0 {
				t.Errorf("want the one empty placeholder part, got %s", dump(m))
			}
		},
		"missing-boundary": func(t *testing.T, p *Parsed, raw string) {
			if m := multi(t, p.BodyStructure); len(m.Children) != 1 {
				t.Errorf("structure %s", dump(m))
			}
		},
		"unterminated-multipart": func(t *testing.T, p *Parsed, raw string) {
			if m := multi(t, p.BodyStructure); len(m.Children) != 2 {
				t.Errorf("structure %s", dump(m))
			}
			wantSearch(t, p, "first part", "second part never ends")
		},
		"invalid-base64": func(t *testing.T, p *Parsed, raw string) {
			wantSearch(t, p, "cuoc hop bat dau")
			if s := single(t, p.BodyStructure); int64(s.Size) != int64(len(raw))-p.HeaderSize {
				t.Errorf("size %d", s.Size)
			}
		},
		"8bit-junk": func(t *testing.T, p *Parsed, raw string) {
			if !strings.HasPrefix(p.Subject, "caf\uFFFD") {
				t.Errorf("subject %q", p.Subject)
			}
			wantSearch(t, p, "body", "text")
		},
		"unknown-charset": func(t *testing.T, p *Parsed, raw string) {
			if p.Subject != "=?x-unknown?Q?abc?=" {
				t.Errorf("subject %q", p.Subject)
			}
			wantSearch(t, p, "plain words")
		},
		"bad-dates": func(t *testing.T, p *Parsed, raw string) {
			if !p.Date.IsZero() {
				t.Errorf("date %v", p.Date)
			}
			if p.MessageID != "not an id" || p.From != "<<<broken" {
				t.Errorf("id %q from %q", p.MessageID, p.From)
			}
		},
		"qp-encoded-part-in-multipart": func(t *testing.T, p *Parsed, raw string) {
			wantSearch(t, p, "dang uy")
		},
	}
	for _, c := range corpus(t) {
		t.Run(c.name, func(t *testing.T) {
			p := Parse([]byte(c.raw))
			checkInvariants(t, []byte(c.raw), p)
			if check := checks[c.name]; check != nil {
				check(t, p, c.raw)
			}
		})
	}
}

// bombs are messages built to make a parser work without end; Parse must stay
// bounded by MaxParts and MaxDepth and still answer.
func TestParseBombs(t *testing.T) {
	wide := func(n int) string {
		var b strings.Builder
		b.WriteString("Subject: wide\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := range n {
			fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f%d.txt\"\r\n\r\npart %d\r\n", i, i)
		}
		b.WriteString("--b--\r\n")
		return b.String()
	}
	deep := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\ndeepest\r\n")
		for i := n - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return b.String()
	}
	deepMessages := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString("Subject: fwd\r\nContent-Type: message/rfc822\r\n\r\n")
		}
		b.WriteString("Subject: inner\r\n\r\ninner text\r\n")
		return b.String()
	}
	cases := []struct {
		name      string
		raw       string
		truncated bool
		check     func(t *testing.T, p *Parsed)
	}{
		{"5000-parts", wide(5000), true, func(t *testing.T, p *Parsed) {
			if n := len(multi(t, p.BodyStructure).Children); n != MaxParts-1 {
				t.Errorf("%d children, want %d (MaxParts counts the message itself)", n, MaxParts-1)
			}
			if !p.HasAttachment {
				t.Error("HasAttachment")
			}
		}},
		{"parts-at-cap", wide(MaxParts - 1), false, nil},
		{"5000-deep-multipart", deep(5000), true, nil},
		{"deep-at-cap", deep(MaxDepth), false, func(t *testing.T, p *Parsed) {
			wantSearch(t, p, "deepest")
		}},
		{"2000-deep-rfc822", deepMessages(2000), true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			p := Parse([]byte(c.raw))
			// A guard against runaway work, not a benchmark: generous for a shared
			// machine, far below what an unbounded parse of these inputs takes.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
			if p.Truncated != c.truncated {
				t.Errorf("Truncated = %v", p.Truncated)
			}
			checkInvariants(t, []byte(c.raw), p)
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func TestHeaderValue(t *testing.T) {
	raw := []byte(crlf(`Received: from a by b; Mon, 24 Nov 2026 08:30:00 +0700
Received: from c
 by d; Mon, 24 Nov 2026 08:29:00 +0700
X-Empty:
Subject: ` + mime2047(viSubject) + `
X-Vietnamese: Cuo` + "\u0323\u0302" + `c họp

X-In-Body: not a header
`))
	cases := []struct {
		name string
		want []string
	}{
		{"received", []string{"from a by b; Mon, 24 Nov 2026 08:30:00 +0700", "from c by d; Mon, 24 Nov 2026 08:29:00 +0700"}},
		{"SUBJECT", []string{viSubject}},
		{"x-empty", []string{""}},
		{"x-vietnamese", []string{"Cuộc họp"}},
		{"x-in-body", nil},
		{"absent", nil},
	}
	for _, c := range cases {
		got := HeaderValue(raw, c.name)
		if fmt.Sprint(got) != fmt.Sprint(c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("HeaderValue(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := HeaderValue([]byte("Subject: a\rX: b\r\rbody"), "x"); len(got) != 1 || got[0] != "b" {
		t.Errorf("bare CR header: %q", got)
	}
	if got := HeaderValue(nil, "subject"); got != nil {
		t.Errorf("empty message: %q", got)
	}
}

func mime2047(s string) string { return "=?utf-8?q?" + qpWord(s) + "?=" }

// DESIGN decision 6: "họp" is found when the user types "hop".
func TestMatchText(t *testing.T) {
	folded := textfold.Search("Kính gửi: Báo cáo Cuộc họp của Đảng ủy, phòng Hành chính")
	cases := []struct {
		query string
		want  bool
	}{
		{"hop", true},
		{"họp", true},
		{"HỌP", true},
		{"dang", true},
		{"Đảng", true},
		{"bao cao", true},
		{"cao bao", true}, // words in any order
		{"báo cáo hop", true},
		{"ho", true}, // substring
		{"", true},
		{"  ,; ", true},
		{"hanh chinh", true},
		{"hanh chinhx", false},
		{"bao cao tai chinh", false},
		{"hopx", false},
	}
	for _, c := range cases {
		if got := MatchText(folded, c.query); got != c.want {
			t.Errorf("MatchText(%q) = %v", c.query, got)
		}
	}
	q := NewQuery("Cuộc họp")
	if !q.Match(folded) || q.Match("cuoc") {
		t.Error("Query.Match")
	}
}

func TestStripHTML(t *testing.T) {
	cases := map[string]string{
		"<p>a</p><p>b</p>":                        "a b",
		"x < y and y > z":                         "x < y and y > z",
		"<SCRIPT>hidden</SCRIPT>shown":            "shown",
		"<script>a</scriptx>b</script >c":         "c",
		"<style>unclosed":                         "",
		"<!-- open comment":                       "",
		"t&amp;t &lt;b&gt; &#7897; &unknown;":     "t&t <b> ộ &unknown;",
		"<a href='x'>li<b>nk</b></a>":             "li nk",
		"<scripts>kept</scripts>":                 "kept",
		"unterminated <tag":                       "unterminated",
		"<":                                       "<",
		"<<<>>>":                                  "<<<>>>",
		"<?xml version='1.0'?><html>ok</html>":    "ok",
		"<style type=\"text/css\">p{}</style>end": "end",
	}
	for in, want := range cases {
		if got := strings.Join(strings.Fields(stripHTML(in)), " "); got != want {
			t.Errorf("stripHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchTextCap(t *testing.T) {
	word := "Báo cáo "
	body := strings.Repeat(word, 2*MaxSearchText/len("bao cao "))
	raw := crlf("Subject: long\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n--x\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"" + mime2047(viFile) + "\"\n\nx\n--x--\n")
	p := Parse([]byte(raw))
	checkInvariants(t, []byte(raw), p)
	if len(p.SearchText) > MaxSearchText || len(p.SearchText) < MaxSearchText-maxNameText-16 {
		t.Errorf("SearchText %d bytes", len(p.SearchText))
	}
	if strings.Contains(p.SearchText, " ba ") || strings.HasSuffix(strings.TrimSuffix(p.SearchText, " de an nam 2026 pdf"), " ba") {
		t.Error("cut inside a word")
	}
	// The file name survives a body that fills the index.
	wantSearch(t, p, "de an nam 2026 pdf")
}

func TestCutWords(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"abc def", 7, "abc def"},
		{"abc def", 3, "abc"},
		{"abc def", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"ab\u00e9", 3, "ab"},
	}
	for _, c := range cases {
		if got := cutWords(c.in, c.n); got != c.want {
			t.Errorf("cutWords(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// R11.5: the largest attachment is found with its decoded size.
func TestLargestAttachmentR11_5(t *testing.T) {
	raw := "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nxin chào\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Repeat("QUJDREVGR0g=\r\n", 100) + "--b\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n"
	a, ok := LargestAttachment(Parse([]byte(raw)))
	if !ok || a.Name != "Báo cáo.pdf" || a.Size < 700 || a.Size > 1100 {
		t.Fatalf("largest attachment: %+v %v", a, ok)
	}
	if _, ok := LargestAttachment(Parse([]byte("Subject: x\r\n\r\nbody\r\n"))); ok {
		t.Error("a plain message has an attachment")
	}
}
