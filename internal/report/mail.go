package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// Attachment is a file attached to a system mail.
type Attachment struct {
	Name        string // ASCII file name
	ContentType string
	Data        []byte
}

// Mail is a system mail with attachments; notify's notices carry none, and a
// report must travel as a file the office can open and file.
type Mail struct {
	From        string // noreply@domain
	To          []string
	Subject     string
	Text        string // plain text, Vietnamese first
	Date        time.Time
	Domain      string // for the Message-ID
	Kind        string // X-Govmail-Notice
	Attachments []Attachment
}

// Build renders m as an RFC 5322 message: multipart/mixed with a UTF-8 text
// part and base64 attachments.
func (m *Mail) Build() ([]byte, error) {
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{{Name: "Hệ thống thư điện tử", Address: m.From}})
	to := make([]*mail.Address, len(m.To))
	for i, a := range m.To {
		to[i] = &mail.Address{Address: a}
	}
	h.SetAddressList("To", to)
	h.SetSubject(m.Subject)
	if err := h.GenerateMessageIDWithHostname(m.Domain); err != nil {
		return nil, err
	}
	h.Set("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies to this
	if m.Kind != "" {
		h.Set("X-Govmail-Notice", m.Kind)
	}
	var buf bytes.Buffer
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var th mail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, strings.ReplaceAll(m.Text, "\n", "\r\n")); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		var ah mail.AttachmentHeader
		ah.SetContentType(a.ContentType, nil)
		ah.SetFilename(a.Name)
		ah.Set("Content-Transfer-Encoding", "base64")
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Deliver delivers m to local accounts through the delivery pipeline, like
// notify's notices: never refused for quota, and reaching locked mailboxes
// (R8.1, R11.6). It fails when no recipient got it.
func Deliver(ctx context.Context, d *delivery.Deliverer, m *Mail, to []*store.Account) error {
	var rcpts []delivery.Recipient
	seen := map[int64]bool{}
	m.To = m.To[:0]
	for _, a := range to {
		if a == nil || seen[a.ID] || a.State == store.StateRevoked {
			continue
		}
		seen[a.ID] = true
		rcpts = append(rcpts, delivery.Recipient{Address: a.Address, AccountID: a.ID, QuotaChecked: true})
		m.To = append(m.To, a.Address)
	}
	if len(rcpts) == 0 {
		return errors.New("report mail: no recipient")
	}
	raw, err := m.Build()
	if err != nil {
		return fmt.Errorf("report mail: %w", err)
	}
	env := &delivery.Envelope{From: m.From, Recipients: rcpts, ClientIP: "127.0.0.1", ClientHelo: "localhost", Proto: delivery.ProtoSystem,
		Direction: "internal", AuthUser: "system:" + m.Kind}
	res, err := d.Deliver(ctx, env, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("report mail: %w", err)
	}
	var errs []error
	for i, o := range res.Outcomes {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rcpts[i].Address, o.Err))
		}
	}
	if len(errs) == len(rcpts) {
		return fmt.Errorf("report mail: %w", errors.Join(errs...))
	}
	return nil
}
