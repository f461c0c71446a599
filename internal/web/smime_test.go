package web

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"govmail/internal/smime"
	"govmail/internal/smime/smimetest"
)

// N2, Thông tư 39/2017: a user uploads a PKCS#12 certificate, signs a message
// from compose, and the recipient's stored copy verifies with smime.Verify; the
// read view names the signer and says the signature and the chain are valid.
func TestSMIMEUploadSignAndVerify(t *testing.T) {
	ca := smimetest.NewCA(t, "Test Root CA")
	key := bytes.Repeat([]byte{0x5a}, 32)
	e := newEnv(t, envOptions{smimeRoots: ca.Pool(), smimeKey: key})
	a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
	rcpt := e.addAccount("btv.sotc@sonla.gov.vn", "Bùi Thị Vân", goodPassword, false)
	notBefore, notAfter := testStart.AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0)
	cert, ckey := ca.Issue(t, "Nguyễn Thị Hoa", a.Address, notBefore, notAfter)
	p12 := ca.P12(t, cert, ckey, "mật khẩu tệp")

	b := e.signedIn(a)
	r := b.get("/settings")
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Chữ ký số S/MIME", "Chưa có chứng thư số.", `action="/settings/smime"`)
	if r := b.get("/compose"); strings.Contains(r.body, `name="smime_sign"`) {
		t.Error("signing offered without a certificate")
	}

	// Refusals: wrong password, garbage, a certificate for another address.
	r = b.postMultipart("/settings/smime", url.Values{"p12_password": {"sai"}}, []upload{{"hoa.p12", "application/x-pkcs12", p12}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Mật khẩu của tệp chứng thư số không đúng.")
	r = b.postMultipart("/settings/smime", url.Values{"p12_password": {"x"}}, []upload{{"hoa.p12", "application/x-pkcs12", []byte("không phải p12")}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Tệp không phải chứng thư số PKCS#12")
	oc, ok := ca.Issue(t, "Người khác", "khac@sonla.gov.vn", notBefore, notAfter)
	r = b.postMultipart("/settings/smime", url.Values{"p12_password": {"p"}}, []upload{{"khac.p12", "application/x-pkcs12", ca.P12(t, oc, ok, "p")}})
	r.wantStatus(t, http.StatusUnprocessableEntity)
	mustContain(t, r.body, "Chứng thư số không cấp cho địa chỉ hoant.skhcn@sonla.gov.vn.")
	if _, _, err := e.st.SMIMEIdentity(context.Background(), a.ID); err == nil {
		t.Fatal("a refused certificate was stored")
	}

	r = b.postMultipart("/settings/smime", url.Values{"p12_password": {"mật khẩu tệp"}}, []upload{{"hoa.p12", "application/x-pkcs12", p12}})
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã lưu chứng thư số S/MIME.", "Test Root CA", "Thay chứng thư số")
	certPEM, sealed, err := e.st.SMIMEIdentity(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("PRIVATE KEY")) || len(sealed) < 100 || !bytes.Contains(certPEM, []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("stored identity: %d bytes of key", len(sealed))
	}

	r = b.get("/compose")
	mustContain(t, r.body, `name="smime_sign" value="1" checked`, "Ký số S/MIME")
	r = b.postMultipart("/compose", url.Values{"to": {rcpt.Address}, "bcc": {a.Address}, "subject": {"Công văn số 12"},
		"body": {"Kính gửi chị Vân,\nĐề nghị xem xét.\n"}, "action": {"send"}, "smime_sign": {"1"}}, nil)
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Đã gửi thư.")

	now := e.clk.Now()
	in := e.messages(e.mailbox(rcpt, "INBOX"))
	if len(in) != 1 {
		t.Fatalf("%d messages in the recipient's INBOX", len(in))
	}
	res, err := smime.Verify(in[0].Raw, ca.Pool(), now)
	if err != nil || !res.Signed || !res.SignatureValid || !res.ChainValid || res.SignerEmail != a.Address {
		t.Fatalf("recipient's copy: %+v %v\n%s", res, err, in[0].Raw)
	}
	if bytes.Contains(in[0].Raw, []byte("Bcc:")) {
		t.Error("Bcc reached the recipient")
	}
	sent := e.messages(e.mailbox(a, "Sent"))
	if len(sent) != 1 {
		t.Fatalf("%d messages in Sent", len(sent))
	}
	if res, err := smime.Verify(sent[0].Raw, ca.Pool(), now); err != nil || !res.SignatureValid || !res.ChainValid {
		t.Errorf("Sent copy: %+v %v", res, err)
	}

	// The recipient reads it: signer, valid signature, valid chain.
	rb := e.signedIn(rcpt)
	r = rb.get(itoaPath(e.mailbox(rcpt, "INBOX").ID, in[0].UID))
	r.wantStatus(t, http.StatusOK)
	mustContain(t, r.body, "Thư có chữ ký số S/MIME", "Người ký:", "Nguyễn Thị Hoa &lt;hoant.skhcn@sonla.gov.vn&gt;",
		"Chữ ký số hợp lệ", "Chứng thư số hợp lệ", "smime-ok", "Đề nghị xem xét.")
	mustNotContain(t, r.body, "smime-bad")
	// The original download is the stored bytes, unchanged.
	if raw := rb.get(itoaPath(e.mailbox(rcpt, "INBOX").ID, in[0].UID) + "/raw"); !bytes.Equal(raw.raw, in[0].Raw) {
		t.Error("the original download differs from the stored message")
	}

	// A body changed on the way is shown as such (red).
	// e.deliver writes CRLF itself, so it gets LF line ends.
	tampered := strings.Replace(strings.ReplaceAll(string(in[0].Raw), "\r\n", "\n"), "xem x", "xem y", 1)
	if !strings.Contains(tampered, "xem y") {
		t.Fatalf("nothing to tamper with:\n%s", in[0].Raw)
	}
	uid := e.deliver(rcpt, tampered)
	r = rb.get(itoaPath(e.mailbox(rcpt, "INBOX").ID, uid))
	mustContain(t, r.body, "Chữ ký số KHÔNG đúng", "smime-bad")
}

// A signer whose certificate does not chain to the configured anchors, and a
// server with no anchors, are shown in red; Vietnamese first, English on request.
func TestSMIMEReadViewUntrusted(t *testing.T) {
	trusted := smimetest.NewCA(t, "Trusted CA")
	other := smimetest.NewCA(t, "Other CA")
	cert, key := other.Issue(t, "Lê Văn Bình", "binh@example.org", testStart.AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0))
	msg := "From: Lê Văn Bình <binh@example.org>\r\nTo: hoant.skhcn@sonla.gov.vn\r\nSubject: Test\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nXin chào.\r\n"
	signed, err := smime.Sign([]byte(msg), cert, key, []*x509.Certificate{other.Cert})
	if err != nil {
		t.Fatal(err)
	}
	for _, roots := range []*x509.CertPool{trusted.Pool(), nil} {
		e := newEnv(t, envOptions{smimeRoots: roots})
		a := e.addAccount("hoant.skhcn@sonla.gov.vn", "Nguyễn Thị Hoa", goodPassword, false)
		uid := e.deliver(a, strings.ReplaceAll(string(signed), "\r\n", "\n"))
		b := e.signedIn(a)
		r := b.get(itoaPath(e.mailbox(a, "INBOX").ID, uid))
		r.wantStatus(t, http.StatusOK)
		mustContain(t, r.body, "Lê Văn Bình &lt;binh@example.org&gt;", "Chữ ký số hợp lệ")
		if roots != nil {
			mustContain(t, r.body, "Không xác thực được chứng thư số: chứng thư không do tổ chức chứng thực tin cậy cấp")
		} else {
			mustContain(t, r.body, "Chưa cấu hình tổ chức chứng thực tin cậy")
		}
		b.lang = "en"
		r = b.get(itoaPath(e.mailbox(a, "INBOX").ID, uid))
		mustContain(t, r.body, "The signature is valid")
		// Without a server secret, no certificate upload is offered.
		if r := b.get("/settings"); strings.Contains(r.body, `action="/settings/smime"`) {
			t.Error("upload offered without SMIMEKey")
		}
	}
}
