// Package notify owns the system messages the rules send into mailboxes (lock
// notices, reminders, request results, quota warnings, outage notices): it builds
// a proper MIME message in Vietnamese (with an English part below) and delivers it
// through delivery like any other mail. It never decides when to send; the rules'
// owners call it.
package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"govmail/internal/clock"
	"govmail/internal/delivery"
	"govmail/internal/store"
)

// Notifier sends system messages.
type Notifier struct {
	Deliverer *delivery.Deliverer
	Clock     clock.Clock
	Domain    string
	Logger    *slog.Logger
}

// Message is a system message: Vietnamese first, English after.
type Message struct {
	SubjectVI, SubjectEN string
	BodyVI, BodyEN       string
	// Kind names the message in the headers (X-Govmail-Notice) so that clients
	// and filters can tell system notices apart.
	Kind string
	// Attached, when set, is a message attached as message/rfc822.
	Attached []byte
}

// From is the sender of system messages (a reserved name, R5.11).
func (n *Notifier) From() string { return "noreply@" + n.Domain }

// header is what every notice carries: from the system, dated by the Clock, with
// the subject in both languages, and marked auto-generated (RFC 3834) so that no
// out-of-office reply answers it.
func (n *Notifier) header(m Message, to []string) (mail.Header, error) {
	var h mail.Header
	h.SetDate(n.Clock.Now())
	h.SetAddressList("From", []*mail.Address{{Name: "Hệ thống thư điện tử", Address: n.From()}})
	list := make([]*mail.Address, len(to))
	for i, a := range to {
		list[i] = &mail.Address{Address: a}
	}
	h.SetAddressList("To", list)
	h.SetSubject(m.SubjectVI + " / " + m.SubjectEN)
	if err := h.GenerateMessageIDWithHostname(n.Domain); err != nil {
		return h, err
	}
	h.Set("Auto-Submitted", "auto-generated")
	if m.Kind != "" {
		h.Set("X-Govmail-Notice", m.Kind)
	}
	return h, nil
}

// text is the notice's body: Vietnamese first, then English, with CRLF lines.
func (m Message) text() string {
	return strings.ReplaceAll(m.BodyVI+"\n\n———\n\n"+m.BodyEN+"\n", "\n", "\r\n")
}

// Build renders m as an RFC 5322 message to the given addresses.
func (n *Notifier) Build(m Message, to []string) ([]byte, error) {
	var buf bytes.Buffer
	h, err := n.header(m, to)
	if err != nil {
		return nil, err
	}
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, m.text()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// BuildWithMessage renders m with an attached message (message/rfc822), kept
// byte for byte so that the recipient can examine what was reported.
func (n *Notifier) BuildWithMessage(m Message, to []string, attached []byte) ([]byte, error) {
	var buf bytes.Buffer
	h, err := n.header(m, to)
	if err != nil {
		return nil, err
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var th mail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, err
	}
	io.WriteString(tw, m.text())
	tw.Close()
	var ah mail.AttachmentHeader
	ah.SetContentType("message/rfc822", nil)
	ah.SetFilename("message.eml")
	// RFC 2046 5.2.1: a message/rfc822 part is never base64; kept as 8bit it stays
	// byte for byte what was reported.
	ah.Set("Content-Transfer-Encoding", "8bit")
	aw, err := mw.CreateAttachment(ah)
	if err != nil {
		return nil, err
	}
	aw.Write(attached)
	aw.Close()
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Send delivers m to the accounts' INBOXes. Notices are never refused for quota
// (R11.6) and reach locked mailboxes (R8.1).
func (n *Notifier) Send(ctx context.Context, m Message, to ...*store.Account) error {
	var rcpts []delivery.Recipient
	var addrs []string
	seen := map[int64]bool{}
	for _, a := range to {
		if a == nil || seen[a.ID] || a.State == store.StateRevoked {
			continue
		}
		seen[a.ID] = true
		rcpts = append(rcpts, delivery.Recipient{Address: a.Address, AccountID: a.ID, QuotaChecked: true})
		addrs = append(addrs, a.Address)
	}
	if len(rcpts) == 0 {
		return nil
	}
	var raw []byte
	var err error
	if m.Attached != nil {
		raw, err = n.BuildWithMessage(m, addrs, m.Attached)
	} else {
		raw, err = n.Build(m, addrs)
	}
	if err != nil {
		return fmt.Errorf("notice %s: %w", m.Kind, err)
	}
	env := &delivery.Envelope{From: n.From(), Recipients: rcpts, ClientIP: "127.0.0.1", ClientHelo: "localhost", Proto: delivery.ProtoSystem, Direction: "internal", AuthUser: "system:" + m.Kind}
	res, err := n.Deliverer.Deliver(ctx, env, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("notice %s: %w", m.Kind, err)
	}
	for i, o := range res.Outcomes {
		if o.Err != nil && n.Logger != nil {
			n.Logger.Warn("notice not delivered", "kind", m.Kind, "to", rcpts[i].Address, "err", o.Err)
		}
	}
	return nil
}

// DateVI formats a date the Vietnamese way (27/11/2026).
func DateVI(t time.Time) string { return t.Format("02/01/2006") }
