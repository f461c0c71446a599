package web

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

// outAttachment is a file going out with a message.
type outAttachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// outMessage is what compose builds a message from.
type outMessage struct {
	From *mail.Address
	// Sender names the delegate who sends as a unit mailbox (R9.2); nil otherwise.
	Sender      *mail.Address
	To, Cc, Bcc []*mail.Address
	Subject     string
	Text        string
	InReplyTo   string
	References  []string
	Attachments []outAttachment
	Date        time.Time
	Hostname    string // right-hand side of the Message-ID
	// KeepBcc writes the Bcc field: for the Sent and Drafts copies only, never for
	// what recipients receive.
	KeepBcc bool
}

// build writes the message with go-message's mail writer: RFC 2047 encoded words for
// non-ASCII header text, quoted-printable UTF-8 text, base64 attachments whose names
// are encoded per RFC 2231 (with continuations, so long Vietnamese names stay within
// the line limit). It returns the bytes and the Message-ID (generated when
// messageID is ""), so that the copy for recipients can be built with the same one.
func (m *outMessage) build(messageID string) ([]byte, string, error) {
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{m.From})
	if m.Sender != nil {
		h.SetAddressList("Sender", []*mail.Address{m.Sender})
	}
	if len(m.To) > 0 {
		h.SetAddressList("To", m.To)
	}
	if len(m.Cc) > 0 {
		h.SetAddressList("Cc", m.Cc)
	}
	if m.KeepBcc && len(m.Bcc) > 0 {
		h.SetAddressList("Bcc", m.Bcc)
	}
	h.SetSubject(m.Subject)
	if messageID == "" {
		if err := h.GenerateMessageIDWithHostname(m.Hostname); err != nil {
			return nil, "", fmt.Errorf("message-id: %w", err)
		}
		messageID, _ = h.MessageID()
	} else {
		h.SetMessageID(messageID)
	}
	if m.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.InReplyTo})
	}
	if len(m.References) > 0 {
		h.SetMsgIDList("References", m.References)
	}
	h.Set("MIME-Version", "1.0")
	h.Set("User-Agent", "govmail webmail")

	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n", "\r\n")

	var buf bytes.Buffer
	var th mail.InlineHeader
	th.Set("Content-Type", "text/plain; charset=utf-8")
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	if len(m.Attachments) == 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
		if _, err := io.WriteString(w, text); err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
		return buf.Bytes(), messageID, nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, "", fmt.Errorf("build message: %w", err)
	}
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, "", fmt.Errorf("build message: %w", err)
	}
	if _, err := io.WriteString(tw, text); err != nil {
		return nil, "", fmt.Errorf("build message: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, "", fmt.Errorf("build message: %w", err)
	}
	for _, a := range m.Attachments {
		var ah mail.AttachmentHeader
		ct := a.ContentType
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = "application/octet-stream"
		}
		mt, params, _ := mime.ParseMediaType(ct)
		cs := ""
		if c := params["charset"]; c != "" && isPlainASCII(c) && !strings.ContainsAny(c, `;"`) {
			cs = "; charset=" + c
		}
		ah.Set("Content-Type", mt+cs+rfc2231Param("name", a.Name))
		ah.Set("Content-Disposition", "attachment"+rfc2231Param("filename", a.Name))
		ah.Set("Content-Transfer-Encoding", "base64")
		w, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
		if _, err := w.Write(a.Data); err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, "", fmt.Errorf("build message: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("build message: %w", err)
	}
	return buf.Bytes(), messageID, nil
}

// rfc2231Param formats `; name="value"` for ASCII values and RFC 2231 extended
// parameters otherwise, split into continuations (name*0*=, name*1*=, …) of at most
// 60 characters each so the header folds at the spaces between them.
func rfc2231Param(name, value string) string {
	if isPlainASCII(value) && len(value) <= 60 {
		return "; " + name + `="` + value + `"`
	}
	enc := strings.ReplaceAll(url.PathEscape(value), "+", "%2B")
	// PathEscape leaves some characters RFC 2231's attribute-char forbids.
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch c {
		case '\'', '(', ')', '*', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '"', '&', '$':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	enc = b.String()
	if len("utf-8''")+len(enc) <= 60 {
		return "; " + name + "*=utf-8''" + enc
	}
	var out strings.Builder
	for i, n := 0, 0; i < len(enc); n++ {
		end := i + 60
		if end > len(enc) {
			end = len(enc)
		}
		// Never cut a %XX escape in two.
		for end < len(enc) && end > i && (enc[end-1] == '%' || end >= 2 && enc[end-2] == '%') {
			end--
		}
		seg := enc[i:end]
		if n == 0 {
			seg = "utf-8''" + seg
		}
		fmt.Fprintf(&out, "; %s*%d*=%s", name, n, seg)
		i = end
	}
	return out.String()
}

// isPlainASCII reports whether s can go in a quoted parameter as it is.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}
