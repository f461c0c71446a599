package pop3

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

func encode(t *testing.T, chunks [][]byte, bodyLines int) string {
	t.Helper()
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	e := newMsgEncoder(w, bodyLines)
	for _, c := range chunks {
		if _, err := e.Write(c); err != nil {
			break // errTopDone
		}
	}
	if err := e.finish(); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return out.String()
}

func TestEncoder(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		bodyLines int
		want      string
	}{
		{"empty", "", -1, ".\r\n"},
		{"crlf kept", "a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n"},
		{"bare lf to crlf", "a\nb\n", -1, "a\r\nb\r\n.\r\n"},
		{"dot stuffing", ".\r\n..\r\n.a\r\na.b\r\n", -1, "..\r\n...\r\n..a\r\na.b\r\n.\r\n"},
		{"dot first byte", ".x", -1, "..x\r\n.\r\n"},
		{"dot after bare lf", "a\n.\n", -1, "a\r\n..\r\n.\r\n"},
		{"bare cr untouched", "a\rb\r\n\r.\r\n", -1, "a\rb\r\n\r.\r\n.\r\n"},
		{"no final newline", "a\r\nb", -1, "a\r\nb\r\n.\r\n"},
		{"final bare cr", "a\r", -1, "a\r\n.\r\n"},
		{"utf-8 untouched", "Tiêu đề: Kính gửi\r\n\r\nĐường dây nóng\r\n", -1, "Tiêu đề: Kính gửi\r\n\r\nĐường dây nóng\r\n.\r\n"},
		{"top 0", "H: 1\r\n\r\nb1\r\nb2\r\n", 0, "H: 1\r\n\r\n.\r\n"},
		{"top 1", "H: 1\r\n\r\nb1\r\nb2\r\n", 1, "H: 1\r\n\r\nb1\r\n.\r\n"},
		{"top lf", "H: 1\nH: 2\n\nb1\nb2\n", 1, "H: 1\r\nH: 2\r\n\r\nb1\r\n.\r\n"},
		{"top beyond body", "H: 1\r\n\r\nb1", 5, "H: 1\r\n\r\nb1\r\n.\r\n"},
		{"top no body", "H: 1\r\nH: 2\r\n", 0, "H: 1\r\nH: 2\r\n.\r\n"},
		{"top counts blank body lines", "H\r\n\r\n\r\n\r\nx\r\n", 2, "H\r\n\r\n\r\n\r\n.\r\n"},
		{"top dot body", "H\r\n\r\n.a\r\n.b\r\n", 1, "H\r\n\r\n..a\r\n.\r\n"},
		{"top cr-only line is not blank", "H\r\n\r\r\nx\r\n\r\ny\r\n", 0, "H\r\n\r\r\nx\r\n\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whole, then split at every position: state must carry across writes.
			if got := encode(t, [][]byte{[]byte(tt.in)}, tt.bodyLines); got != tt.want {
				t.Fatalf("whole: got %q, want %q", got, tt.want)
			}
			for i := 0; i <= len(tt.in); i++ {
				chunks := [][]byte{[]byte(tt.in[:i]), []byte(tt.in[i:])}
				if got := encode(t, chunks, tt.bodyLines); got != tt.want {
					t.Fatalf("split at %d: got %q, want %q", i, got, tt.want)
				}
			}
			var bytewise [][]byte
			for i := range len(tt.in) {
				bytewise = append(bytewise, []byte{tt.in[i]})
			}
			if got := encode(t, bytewise, tt.bodyLines); got != tt.want {
				t.Fatalf("byte by byte: got %q, want %q", got, tt.want)
			}
		})
	}
}

// unstuff is what a client does: lines up to ".", leading dot removed, CRLF joined.
func unstuff(wire string) string {
	wire = strings.TrimSuffix(wire, ".\r\n")
	var b strings.Builder
	for _, l := range strings.SplitAfter(wire, "\r\n") {
		b.WriteString(strings.TrimPrefix(l, "."))
	}
	return b.String()
}

// A CRLF message comes back byte for byte, which is what S/MIME needs.
func TestEncoderRoundTrip(t *testing.T) {
	msg := "From: a@b\r\nSubject: =?utf-8?q?x?=\r\n\r\n.\r\n..\r\n.line\r\nTrường học\r\n\r\n \r\n"
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := writeMessage(w, iotest.OneByteReader(strings.NewReader(msg)), -1); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got := unstuff(out.String()); got != msg {
		t.Fatalf("round trip:\n%q\nwant\n%q", got, msg)
	}
}
