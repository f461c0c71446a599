package authreport

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// reportMail is one outgoing report message.
type reportMail struct {
	From, To   string
	Subject    string
	MessageID  string
	Date       time.Time
	Extra      map[string]string // further header fields (TLS-Report-Domain …)
	ReportType string            // multipart/report's report-type; "" for multipart/mixed
	Text       string            // the human-readable part
	FileName   string
	FileType   string // media type of the attachment
	Data       []byte // the report, uncompressed: it is gzip'd here
}

// compose writes the message: a text part in Vietnamese and English, and the
// report gzip'd as an attachment.
func (m *reportMail) compose() ([]byte, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(m.Data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{{Address: m.From}})
	h.SetAddressList("To", []*mail.Address{{Address: m.To}})
	h.SetSubject(m.Subject)
	h.Set("Message-Id", "<"+m.MessageID+">")
	h.Set("MIME-Version", "1.0")
	// Automated mail: vacation responders and the like must not answer it (RFC 3834).
	h.Set("Auto-Submitted", "auto-generated")
	for k, v := range m.Extra {
		// Raw keeps the RFC's spelling (TLS-Report-Domain), which Set would
		// canonicalise to Tls-Report-Domain.
		h.AddRaw([]byte(k + ": " + v + "\r\n"))
	}
	if m.ReportType != "" {
		h.SetContentType("multipart/report", map[string]string{"report-type": m.ReportType})
	} else {
		h.SetContentType("multipart/mixed", nil)
	}
	var b bytes.Buffer
	w, err := message.CreateWriter(&b, h.Header)
	if err != nil {
		return nil, fmt.Errorf("report mail: %w", err)
	}
	var th message.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	tw, err := w.CreatePart(th)
	if err != nil {
		return nil, fmt.Errorf("report mail: %w", err)
	}
	if _, err := tw.Write([]byte(m.Text)); err != nil {
		return nil, err
	}
	tw.Close()
	var ah message.Header
	ah.SetContentType(m.FileType, map[string]string{"name": m.FileName})
	ah.SetContentDisposition("attachment", map[string]string{"filename": m.FileName})
	ah.Set("Content-Transfer-Encoding", "base64")
	aw, err := w.CreatePart(ah)
	if err != nil {
		return nil, fmt.Errorf("report mail: %w", err)
	}
	if _, err := aw.Write(gz.Bytes()); err != nil {
		return nil, err
	}
	aw.Close()
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("report mail: %w", err)
	}
	return b.Bytes(), nil
}
