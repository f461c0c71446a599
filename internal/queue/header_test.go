package queue

import (
	"strings"
	"testing"

	"govmail/internal/mailparse"
)

// Submit reads From and Message-ID from the header block alone; they must be
// what a parse of the whole message gives, whatever the line endings.
func TestHeaderBlockKeepsHeaderFields(t *testing.T) {
	big := strings.Repeat("QUJDRA==\r\n", 1000)
	for name, raw := range map[string]string{
		"multipart": "From: \"Nguyễn An\" <an@sonla.gov.vn>\r\nMessage-ID: <m1@sonla.gov.vn>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "--b--\r\n",
		"bare LF":       "From: a@example.org\nMessage-ID: <m2@example.org>\n\nbody\r\n\r\nmore\r\n",
		"no blank line": "From: a@example.org\r\nMessage-ID: <m3@example.org>\r\n",
		"folded":        "From: a@example.org\r\nMessage-ID:\r\n <m4@example.org>\r\n\r\n",
	} {
		full, head := mailparse.Parse([]byte(raw)), mailparse.Parse(headerBlock([]byte(raw)))
		if full.From == "" || full.MessageID == "" {
			t.Fatalf("%s: fixture has no From or Message-ID: %+v", name, full)
		}
		if head.From != full.From || head.MessageID != full.MessageID {
			t.Errorf("%s: header block gives %q %q, whole message %q %q", name, head.From, head.MessageID, full.From, full.MessageID)
		}
	}
}
