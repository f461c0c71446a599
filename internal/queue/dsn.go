package queue

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"govmail/internal/store"
)

// dsnRecipient is one recipient a DSN reports on.
type dsnRecipient struct {
	store.QueueRecipient
	Status     string // enhanced status, e.g. 5.1.1
	Diagnostic string // remote reply or our reason
	Remote     string // remote MTA, when one answered
	Until      time.Time
}

// dsn is a delivery status notification (RFC 3464) in a multipart/report
// (RFC 6522): a text for people, in Vietnamese and then English; the
// machine-readable status; and the original header (or whole message for RET=FULL).
type dsn struct {
	reportingMTA string
	from, to     string
	envID        string
	arrival      time.Time
	date         time.Time
	delayed      bool
	rcpts        []dsnRecipient
	original     []byte
	full         bool
	messageID    string
}

func randomToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bytes renders the DSN with CRLF line endings.
func (d *dsn) bytes() []byte {
	boundary := "=_govmail_" + randomToken()
	host := d.reportingMTA
	d.messageID = "<dsn." + randomToken() + "@" + host + ">"
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	subjectVI, subjectEN := "Thư không gửi được", "Undelivered Mail Returned to Sender"
	if d.delayed {
		subjectVI, subjectEN = "Thư đang bị chậm, vẫn đang thử gửi lại", "Delayed Mail (still being retried)"
	}
	h("From", mime.QEncoding.Encode("utf-8", "Hệ thống thư điện tử")+" <"+d.from+">")
	h("To", "<"+d.to+">")
	h("Subject", mime.QEncoding.Encode("utf-8", subjectVI+" / "+subjectEN))
	h("Date", d.date.Format(time.RFC1123Z))
	h("Message-ID", d.messageID)
	h("Auto-Submitted", "auto-replied") // RFC 3834: no auto-reply to this
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/report; report-type=delivery-status; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("This is a MIME-encapsulated delivery status notification.\r\n")

	// 1. For people.
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Language: vi, en\r\n\r\n")
	qp := quotedprintable.NewWriter(&b) // writes CRLF line breaks in text mode
	qp.Write([]byte(d.humanText()))
	qp.Close()

	// 2. For machines (RFC 3464 2.2, 2.3).
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	b.WriteString("Content-Type: message/delivery-status\r\n\r\n")
	h("Reporting-MTA", "dns; "+host)
	if d.envID != "" {
		h("Original-Envelope-Id", d.envID)
	}
	h("Arrival-Date", d.arrival.Format(time.RFC1123Z))
	for _, r := range d.rcpts {
		b.WriteString("\r\n")
		if r.ORcpt != "" {
			h("Original-Recipient", r.ORcpt)
		}
		h("Final-Recipient", "rfc822; "+r.Address)
		if d.delayed {
			h("Action", "delayed")
		} else {
			h("Action", "failed")
		}
		status := r.Status
		if status == "" {
			status = "5.0.0"
			if d.delayed {
				status = "4.0.0"
			}
		}
		h("Status", status)
		if r.Remote != "" {
			h("Remote-MTA", "dns; "+strings.SplitN(r.Remote, " ", 2)[0])
		}
		if r.Diagnostic != "" {
			h("Diagnostic-Code", "smtp; "+oneLine(r.Diagnostic))
		}
		h("Last-Attempt-Date", d.date.Format(time.RFC1123Z))
		if d.delayed && !r.Until.IsZero() {
			h("Will-Retry-Until", r.Until.Format(time.RFC1123Z))
		}
	}

	// 3. The original: its header (RFC 3462 text/rfc822-headers) unless RET=FULL.
	fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
	if d.full {
		b.WriteString("Content-Type: message/rfc822\r\n\r\n")
		b.Write(d.original)
		if !bytes.HasSuffix(d.original, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	} else {
		b.WriteString("Content-Type: text/rfc822-headers\r\n\r\n")
		b.Write(headerOf(d.original))
	}
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

func (d *dsn) humanText() string {
	var t strings.Builder
	list := func() {
		for _, r := range d.rcpts {
			fmt.Fprintf(&t, "  <%s>\n", r.Address)
			if r.Diagnostic != "" {
				fmt.Fprintf(&t, "      %s\n", oneLine(r.Diagnostic))
			}
		}
	}
	if d.delayed {
		t.WriteString("Đây là thông báo tự động của hệ thống thư điện tử " + d.reportingMTA + ".\n\n")
		t.WriteString("Thư của bạn chưa gửi được tới những người nhận dưới đây. Hệ thống vẫn đang\n")
		t.WriteString("tự động thử gửi lại; bạn không cần gửi lại thư.\n")
		if len(d.rcpts) > 0 && !d.rcpts[0].Until.IsZero() {
			fmt.Fprintf(&t, "Nếu đến %s vẫn không gửi được, bạn sẽ nhận thông báo thư bị trả lại.\n", d.rcpts[0].Until.Format("15:04 02/01/2006"))
		}
		t.WriteString("\n")
		list()
		t.WriteString("\n----------------------------------------------------------------------\n\n")
		t.WriteString("This is an automatic message from the mail system " + d.reportingMTA + ".\n\n")
		t.WriteString("Your message has not yet been delivered to the recipients below. The\n")
		t.WriteString("system is still retrying; you do not need to send it again.\n")
		if len(d.rcpts) > 0 && !d.rcpts[0].Until.IsZero() {
			fmt.Fprintf(&t, "If it cannot be delivered by %s, it will be returned to you.\n", d.rcpts[0].Until.Format(time.RFC1123Z))
		}
		t.WriteString("\n")
		list()
		return t.String()
	}
	t.WriteString("Đây là thông báo tự động của hệ thống thư điện tử " + d.reportingMTA + ".\n\n")
	t.WriteString("Thư của bạn không thể gửi tới những người nhận dưới đây và đã bị trả lại.\n")
	t.WriteString("Lý do (do máy chủ nhận trả lời) được ghi bên dưới mỗi địa chỉ.\n\n")
	list()
	t.WriteString("\n----------------------------------------------------------------------\n\n")
	t.WriteString("This is an automatic message from the mail system " + d.reportingMTA + ".\n\n")
	t.WriteString("Your message could not be delivered to the recipients below and is\n")
	t.WriteString("returned to you. The reason (as the receiving server gave it) follows\n")
	t.WriteString("each address.\n\n")
	list()
	return t.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// headerOf returns the header block of a message, CRLF-terminated.
func headerOf(raw []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break
		}
		out.WriteString(l)
		out.WriteString("\r\n")
	}
	return out.Bytes()
}
