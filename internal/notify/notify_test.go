package notify

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"govmail/internal/clock"
)

func testNotifier() *Notifier {
	return &Notifier{Clock: clock.NewFake(time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)), Domain: "sonla.gov.vn"}
}

var notice = Message{
	SubjectVI: "Hộp thư sắp đầy", SubjectEN: "Mailbox nearly full",
	BodyVI: "Hộp thư đã dùng 90%.", BodyEN: "The mailbox is 90% full.", Kind: "quota",
}

// Every notice is from the reserved sender, bilingual, dated by the clock and
// marked auto-generated so that out-of-office replies never answer it.
func TestBuildHeadersAndBody(t *testing.T) {
	raw, err := testNotifier().Build(notice, []string{"hoant.skhcn@sonla.gov.vn"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	if s, _ := h.Subject(); s != "Hộp thư sắp đầy / Mailbox nearly full" {
		t.Errorf("subject %q", s)
	}
	if from, _ := h.AddressList("From"); len(from) != 1 || from[0].Address != "noreply@sonla.gov.vn" {
		t.Errorf("from %v", from)
	}
	if d, _ := h.Date(); !d.Equal(time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("date %v", d)
	}
	if h.Get("Auto-Submitted") != "auto-generated" || h.Get("X-Govmail-Notice") != "quota" || h.Get("Message-Id") == "" {
		t.Errorf("headers %v", h.Header)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	if got := string(body); !strings.HasPrefix(got, "Hộp thư đã dùng 90%.\r\n") || strings.Index(got, "90% full") < strings.Index(got, "90%.") {
		t.Errorf("body %q: want Vietnamese first, CRLF lines", got)
	}
}

// A reported message travels attached byte for byte.
func TestBuildWithMessageKeepsAttachment(t *testing.T) {
	orig := []byte("From: x@example.org\r\nSubject: =?utf-8?q?Th=C6=B0?=\r\n\r\nNội dung 8bit\r\n")
	raw, err := testNotifier().BuildWithMessage(notice, []string{"antt@sonla.gov.vn"}, orig)
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Error("attached notice not marked auto-generated")
	}
	var found bool
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if ah, ok := p.Header.(*mail.AttachmentHeader); ok {
			if ct, _, _ := ah.ContentType(); ct == "message/rfc822" {
				got, _ := io.ReadAll(p.Body)
				if !bytes.Equal(got, orig) {
					t.Errorf("attachment changed:\n%q\nwant\n%q", got, orig)
				}
				found = true
			}
		}
	}
	if !found {
		t.Error("no message/rfc822 part")
	}
}
