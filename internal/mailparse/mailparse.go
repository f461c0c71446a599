// Package mailparse owns what the store learns from a raw message once, when the
// message is delivered or appended: the IMAP envelope and body structure, the decoded
// header fields shown in message lists, the folded text that SEARCH matches, and the
// attachment and S/MIME flags. IMAP FETCH and SEARCH then read these stored values and
// never parse a message body again.
//
// Parse never fails and never changes the message. Mail is stored byte for byte as
// received (N2: no step alters a body), so a message this package cannot make sense of
// still gets a usable, possibly partial, description rather than an error: a parsing
// failure must never cost a delivery.
//
// It never stores anything, never folds text any other way than textfold.Search, and
// decides no policy (allowed attachment types, sizes): those belong to delivery.
package mailparse

import (
	"bytes"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	// Legacy charsets (windows-1258, the Vietnamese Windows code page, and the
	// ISO-8859 family) are registered by this import; without it their text is left
	// undecoded.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
)

// Caps that keep Parse linear in the message size whatever the sender built. Real
// mail stays far below them (a few dozen parts, rarely more than six levels), so they
// only bite on hostile or broken messages, which then get a shortened but valid
// BodyStructure and Truncated set.
const (
	// MaxParts is the number of MIME entities (the message itself, every part, every
	// embedded message) described in a BodyStructure. Parts after it are left out of
	// the structure; the bytes stay in the stored message.
	MaxParts = 1000
	// MaxDepth is how deep multiparts and embedded messages are opened. Parse costs
	// O(size × depth) because every level scans its own bytes again; an entity at
	// this depth is described as one opaque application/octet-stream part.
	MaxDepth = 20
	// MaxSearchText is the byte size of Parsed.SearchText; text beyond it is not
	// indexed. It bounds the index row, not the message.
	MaxSearchText = 256 << 10
	// maxNameText is the share of MaxSearchText kept for attachment file names, so a
	// long body cannot push the names out of the index.
	maxNameText = 16 << 10
)

// Parsed is what the store keeps about one message besides its bytes.
type Parsed struct {
	// Envelope is what imapserver.ExtractEnvelope gives for the message header, as
	// sent: strings are not normalised so Vietnamese text reaches IMAP clients
	// unchanged (R3.3).
	Envelope *imap.Envelope
	// BodyStructure is the extended structure imapserver.ExtractBodyStructure gives,
	// within MaxParts and MaxDepth, with two repairs so that it can be written and
	// read: a multipart in which no part could be read gets one empty text/plain
	// child (IMAP's grammar needs one, and go-imap's server panics writing a
	// multipart without children), and a text part whose unparsable Content-Type
	// kept upper case ("TEXT/PLAIN; charset") still gets its line count, which
	// clients expect of any text part.
	BodyStructure imap.BodyStructure
	// HeaderSize is the length of the header block including the blank line that
	// ends it. Without a blank line the block ends before the first line that is not
	// a header field, or at the end of the message.
	HeaderSize int64

	// Decoded header fields for lists and SEARCH: RFC 2047 and legacy charsets
	// decoded, NFC, valid UTF-8, control characters replaced by spaces. Addresses
	// read "Name <box@host>, …"; a list that does not parse is kept as decoded text.
	Subject, From, To, Cc, Bcc string
	// MessageID is the Message-ID without angle brackets, or the raw field when it
	// does not parse.
	MessageID string
	// Date is the Date field; zero when absent or invalid.
	Date time.Time

	// SearchText is textfold.Search of the decoded text/plain and text/html (tags
	// dropped) parts, of the subjects of embedded messages and of attachment file
	// names, at most MaxSearchText bytes. Match it with MatchText.
	SearchText string
	// HasAttachment is set when a part carries a file name or is marked as an
	// attachment or is an embedded message; S/MIME signatures and encrypted bodies,
	// and images embedded in HTML, do not count.
	HasAttachment bool
	// SMIME is set for a top-level multipart/signed with a PKCS #7 signature or an
	// application/pkcs7-mime message, so webmail can mark it (N2).
	SMIME bool
	// Truncated is set when MaxParts or MaxDepth cut the BodyStructure short.
	Truncated bool
}

// Parse describes raw, which it neither modifies nor keeps. It never fails: every
// field is filled as far as the message allows, Envelope and BodyStructure are never
// nil. It takes the bytes rather than a reader because delivery holds them anyway
// (it writes the blob) and salvaging a broken header needs to look back.
//
// A message that ends its lines with bare CR throughout (no LF at all) is one header
// line to a MIME parser. Its BodyStructure is still computed from the raw bytes, so
// that it agrees with the sections the IMAP server cuts from those bytes, but the
// envelope, header fields and search text are read from a CRLF copy, so the message
// is listed and found like any other.
func Parse(raw []byte) *Parsed {
	view, converted := crlfView(raw)

	w := &walker{collect: true, text: newSearchText(MaxSearchText - maxNameText), names: newSearchText(maxNameText)}
	h, bs := w.message(view)
	truncated := w.truncated
	if converted {
		sw := &walker{}
		_, bs = sw.message(raw)
		truncated = sw.truncated
	}

	p := &Parsed{
		Envelope:      imapserver.ExtractEnvelope(h),
		BodyStructure: bs,
		HeaderSize:    int64(headerEnd(raw)),
		HasAttachment: w.attachment,
		Truncated:     truncated,
	}
	p.Date = p.Envelope.Date

	mh := mail.Header{Header: gomessage.Header{Header: h}}
	subject, _ := mh.Subject() // on error the raw field is returned, which is what we keep
	p.Subject = displayText(subject)
	p.From = addressText(mh, "From")
	p.To = addressText(mh, "To")
	p.Cc = addressText(mh, "Cc")
	p.Bcc = addressText(mh, "Bcc")
	p.MessageID = messageID(mh)
	p.SMIME = isSMIME(mh.Header)

	body, names := w.text.String(), w.names.String()
	switch {
	case body == "":
		p.SearchText = names
	case names == "":
		p.SearchText = body
	default:
		p.SearchText = body + " " + names
	}
	return p
}

// isSMIME looks at the top-level entity only: a signed part inside a mixed message
// is not a signed message, and webmail marks messages, not parts.
func isSMIME(h gomessage.Header) bool {
	mediaType, params, _ := h.ContentType()
	switch mediaType {
	case "multipart/signed":
		return isPKCS7Signature(params["protocol"])
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	}
	return false
}

func isPKCS7Signature(mediaType string) bool {
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return true
	}
	return false
}

// crlfView returns raw itself, or a CRLF copy of a message whose only line ending is
// bare CR (old Mac mailers, some broken gateways).
func crlfView(raw []byte) ([]byte, bool) {
	if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') < 0 {
		return raw, false
	}
	return bytes.ReplaceAll(raw, []byte("\r"), []byte("\r\n")), true
}
