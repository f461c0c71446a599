package mailparse

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// walker computes the body structure the way imapserver.ExtractBodyStructure does
// (same header reader, same multipart reader, same fields), so that BODYSTRUCTURE
// agrees with the sections imapserver.ExtractBodySection later cuts from the stored
// bytes. It differs in three ways: it is bounded by MaxParts and MaxDepth, it streams
// leaf bodies instead of holding each in memory, and while it walks it gathers the
// search text and attachment flag so the message is read once.
type walker struct {
	parts     int
	truncated bool

	// collect is false for the structure-only pass over a bare-CR message.
	collect    bool
	text       *searchText
	names      *searchText
	attachment bool
}

// message walks a whole message and returns its header too, for the envelope.
func (w *walker) message(raw []byte) (textproto.Header, imap.BodyStructure) {
	br := bufio.NewReader(bytes.NewReader(raw))
	h, err := textproto.ReadHeader(br)
	var textBody []byte
	if err != nil {
		// The header reader swallowed the line it choked on ("no blank line"
		// messages lose their first body line that way). For the search text of a
		// single-part message, take the body from where the header block really
		// ends instead; the structure keeps the library's view.
		textBody = raw[headerEnd(raw):]
	}
	w.parts = 1
	return h, w.entity(h, br, 0, "", textBody)
}

// entity describes one MIME entity whose header is h and whose body is read from r.
// parent is the multipart subtype containing it ("" at the top or under a message).
// textBody, when not nil, replaces r as the source of search text.
func (w *walker) entity(h textproto.Header, r io.Reader, depth int, parent string, textBody []byte) imap.BodyStructure {
	header := gomessage.Header{Header: h}
	mediaType, typeParams, err := header.ContentType()
	primaryType, subType, _ := strings.Cut(mediaType, "/")
	// The structure keeps what the library makes of a malformed Content-Type
	// ("Text/Plain; charset" becomes type "Text", subtype "Plain; charset"); text
	// extraction and the flags read it leniently, so the words are still found.
	kind := mediaType
	if err != nil {
		kind = lenientType(kind)
	}

	if primaryType == "multipart" && depth < MaxDepth {
		return w.multipart(header, subType, typeParams, r, depth)
	}

	bs := &imap.BodyStructureSinglePart{
		Type:        primaryType,
		Subtype:     subType,
		Params:      typeParams,
		ID:          header.Get("Content-Id"),
		Description: header.Get("Content-Description"),
		Encoding:    header.Get("Content-Transfer-Encoding"),
	}
	cr := &countReader{r: r}
	isMessage := mediaType == "message/rfc822" || mediaType == "message/global"

	switch {
	case primaryType == "multipart" || isMessage && (depth >= MaxDepth || w.parts >= MaxParts):
		// Not opened: an opaque part is valid IMAP and still downloadable as a
		// whole, whereas "message/rfc822" without an envelope would not parse.
		w.truncated = true
		bs.Type, bs.Subtype = "application", "octet-stream"
		drain(cr)
	case isMessage:
		w.parts++
		br := bufio.NewReader(cr)
		childHeader, _ := textproto.ReadHeader(br)
		env := imapserver.ExtractEnvelope(childHeader)
		child := w.entity(childHeader, br, depth+1, "", nil)
		drain(br)
		bs.MessageRFC822 = &imap.BodyStructureMessageRFC822{
			Envelope:      env,
			BodyStructure: child,
			NumLines:      cr.lines,
		}
		if w.collect {
			// The forwarded message's subject is part of this message's body text.
			w.text.add(env.Subject)
		}
	case w.collect && (kind == "text/plain" || kind == "text/html"):
		if textBody != nil {
			w.collectText(header, kind, bytes.NewReader(textBody))
		} else {
			w.collectText(header, kind, cr)
		}
		drain(cr)
	default:
		drain(cr)
	}

	bs.Size = uint32(cr.n) // the library's truncation to uint32, kept for equality
	// The library adds the line count for "text" only; an unparsable Content-Type
	// keeps its case ("TEXT/PLAIN; charset"), and clients, reading the type
	// case-insensitively, then expect a line count that is not there.
	if strings.EqualFold(primaryType, "text") {
		bs.Text = &imap.BodyStructureText{NumLines: cr.lines}
	}
	bs.Extended = &imap.BodyStructureSinglePartExt{
		Disposition: contentDisposition(header),
		Language:    contentLanguage(header),
		Location:    header.Get("Content-Location"),
	}

	if w.collect && !isSMIMEPart(kind) {
		if isAttachment(bs, kind, parent) {
			w.attachment = true
		}
		w.names.add(bs.Filename())
	}
	return bs
}

func (w *walker) multipart(header gomessage.Header, subType string, params map[string]string, r io.Reader, depth int) imap.BodyStructure {
	bs := &imap.BodyStructureMultiPart{Subtype: subType}
	mr := textproto.NewMultipartReader(r, params["boundary"])
	for {
		part, _ := mr.NextPart()
		if part == nil {
			break
		}
		if w.parts >= MaxParts {
			w.truncated = true
			break
		}
		w.parts++
		bs.Children = append(bs.Children, w.entity(part.Header, part, depth+1, subType, nil))
	}
	bs.Extended = &imap.BodyStructureMultiPartExt{
		Params:      params,
		Disposition: contentDisposition(header),
		Language:    contentLanguage(header),
		Location:    header.Get("Content-Location"),
	}
	if len(bs.Children) == 0 {
		// Broken or missing boundary. Dovecot answers the same way: one empty
		// text/plain part, which is what ExtractBodyStructure gives for an empty
		// part without header.
		bs.Children = []imap.BodyStructure{emptyPart()}
	}
	return bs
}

func emptyPart() *imap.BodyStructureSinglePart {
	return &imap.BodyStructureSinglePart{
		Type:     "text",
		Subtype:  "plain",
		Text:     &imap.BodyStructureText{},
		Extended: &imap.BodyStructureSinglePartExt{},
	}
}

// contentDisposition and contentLanguage repeat go-imap's unexported helpers
// exactly, malformed values included, for equality with ExtractBodyStructure.
func contentDisposition(header gomessage.Header) *imap.BodyStructureDisposition {
	disp, params, _ := header.ContentDisposition()
	if disp == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: disp, Params: params}
}

func contentLanguage(header gomessage.Header) []string {
	v := header.Get("Content-Language")
	if v == "" {
		return nil
	}
	l := strings.Split(v, ",")
	for i, lang := range l {
		l[i] = strings.TrimSpace(lang)
	}
	return l
}

// isAttachment decides what a user would call an attachment: something with a file
// name or marked as one, or a forwarded message. A Content-ID part of
// multipart/related is an image inside the HTML, and a text part named only in
// Content-Type is some clients' way of sending the body.
func isAttachment(bs *imap.BodyStructureSinglePart, mediaType, parent string) bool {
	switch mediaType {
	case "message/rfc822", "message/global":
		return true
	}
	var disp string
	var dispName string
	if d := bs.Extended.Disposition; d != nil {
		disp = lenientType(d.Value)
		dispName = d.Params["filename"]
	}
	if disp == "attachment" {
		return true
	}
	if parent == "related" && bs.ID != "" {
		return false
	}
	if dispName != "" {
		return true
	}
	if bs.Params["name"] != "" {
		return mediaType != "text/plain" && mediaType != "text/html"
	}
	return false
}

// lenientType reads the media type or disposition out of a value mime.ParseMediaType
// refused: "Text/Plain; charset" is still text/plain.
func lenientType(v string) string {
	v, _, _ = strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(v))
}

// isSMIMEPart tells the detached signature of a signed message and the opaque body
// of an encrypted one: mechanics of S/MIME (or OpenPGP), neither attachments to the
// user nor names worth searching ("smime.p7s").
func isSMIMEPart(mediaType string) bool {
	switch mediaType {
	case "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature",
		"application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	}
	return false
}

// countReader counts what passes through it: Size and NumLines of a part without
// holding the part in memory.
type countReader struct {
	r     io.Reader
	n     int64
	lines int64
	done  bool
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil {
		// The library parses an embedded message from a bytes.Reader, which ends
		// with io.EOF; a part cut short by a missing boundary ends with
		// io.ErrUnexpectedEOF. Ending both the same way keeps the results equal.
		c.done = true
		err = io.EOF
	}
	return n, err
}

func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, r) // the readers here end in EOF, any error is the end
}
