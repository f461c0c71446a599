package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errTopDone stops the copy once TOP has sent the lines it was asked for.
var errTopDone = errors.New("pop3: top limit reached")

// msgEncoder turns stored message bytes into a POP3 multi-line body: a '.' at the
// start of a line is doubled (RFC 1939 section 3) and a bare LF becomes CRLF,
// because the wire format is CRLF lines and a client may otherwise mistake a
// lone "\n.\n" for the end of the message. All other bytes, including a CR that
// is not followed by LF, pass unchanged so that signatures still verify.
//
// It streams: memory use does not depend on the message or its line lengths.
type msgEncoder struct {
	w         *bufio.Writer
	lineStart bool // the next byte begins a line
	prevCR    bool // the last byte written was CR
	lineLen   int  // bytes of the current line so far, a CR included
	// bodyLines is how many body lines TOP still wants, or -1 for the whole
	// message (RETR).
	bodyLines int
	inBody    bool
	done      bool
}

func newMsgEncoder(w *bufio.Writer, bodyLines int) *msgEncoder {
	return &msgEncoder{w: w, lineStart: true, bodyLines: bodyLines}
}

func (e *msgEncoder) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if e.done {
			return n, errTopDone
		}
		if e.lineStart && p[0] == '.' {
			if err := e.w.WriteByte('.'); err != nil {
				return n, err
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := e.w.Write(p); err != nil {
				return n, err
			}
			e.lineLen += len(p)
			e.prevCR = p[len(p)-1] == '\r'
			e.lineStart = false
			return n + len(p), nil
		}
		if _, err := e.w.Write(p[:i]); err != nil {
			return n, err
		}
		crBefore := e.prevCR
		if i > 0 {
			crBefore = p[i-1] == '\r'
		}
		if !crBefore {
			if err := e.w.WriteByte('\r'); err != nil {
				return n, err
			}
		}
		if err := e.w.WriteByte('\n'); err != nil {
			return n, err
		}
		lineLen := e.lineLen + i
		empty := lineLen == 0 || (lineLen == 1 && crBefore)
		e.lineLen, e.lineStart, e.prevCR = 0, true, false
		n += i + 1
		p = p[i+1:]
		e.countLine(empty)
	}
	return n, nil
}

// countLine applies TOP's limit: the header, the empty line that ends it, then
// bodyLines lines of body.
func (e *msgEncoder) countLine(empty bool) {
	if e.bodyLines < 0 {
		return
	}
	if !e.inBody {
		if empty {
			e.inBody = true
			e.done = e.bodyLines == 0
		}
		return
	}
	e.bodyLines--
	e.done = e.bodyLines == 0
}

// finish ends the last line if the message did not, so that the terminating
// ".\r\n" is on a line of its own, and writes it.
func (e *msgEncoder) finish() error {
	if !e.lineStart {
		if !e.prevCR {
			e.w.WriteByte('\r')
		}
		e.w.WriteByte('\n')
	}
	_, err := e.w.WriteString(".\r\n")
	return err
}

// writeMessage copies r as a multi-line response body. bodyLines < 0 copies all.
func writeMessage(w *bufio.Writer, r io.Reader, bodyLines int) error {
	e := newMsgEncoder(w, bodyLines)
	if _, err := io.Copy(e, r); err != nil && !errors.Is(err, errTopDone) {
		return err
	}
	return e.finish()
}
