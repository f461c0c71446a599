package web

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	// The charset package registers legacy charsets (windows-1258, the ISO-8859
	// family) with go-message, for header words and for body text.
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"
	"golang.org/x/text/unicode/norm"
)

// maxPartDepth bounds how deep the reader opens nested multiparts; mailparse uses the
// same kind of cap so hostile nesting cannot cost more here than at delivery.
const maxPartDepth = 20

// maxParts bounds the number of parts a view lists.
const maxParts = 500

// mimePart is one leaf of a message.
type mimePart struct {
	Path        string // IMAP part number: "1", "2.1"
	MediaType   string // lower-case type/subtype
	Charset     string
	Disposition string // "attachment", "inline" or ""
	Filename    string
	ContentID   string // without angle brackets
	// Body is the part with its transfer encoding removed and nothing else
	// changed, so a downloaded or forwarded attachment is the sender's file byte for
	// byte (a text file keeps its charset).
	Body      []byte
	InRelated bool // inside multipart/related: a resource of the HTML part
}

// Size is the decoded size.
func (p *mimePart) Size() int { return len(p.Body) }

// Text is the part as display text: charset converted to UTF-8, NFC, valid UTF-8.
func (p *mimePart) Text() string {
	body := p.Body
	if p.Charset != "" && p.Charset != "utf-8" && p.Charset != "us-ascii" {
		if r, err := charset.Reader(p.Charset, bytes.NewReader(body)); err == nil {
			if conv, err := io.ReadAll(r); err == nil {
				body = conv
			}
		}
	}
	return norm.NFC.String(strings.ToValidUTF8(string(body), "\uFFFD"))
}

// Name is what the part is called in the attachment list.
func (p *mimePart) Name() string {
	if p.Filename != "" {
		return p.Filename
	}
	if p.MediaType == "message/rfc822" {
		return "thu-dinh-kem.eml"
	}
	exts, _ := mime.ExtensionsByType(p.MediaType)
	ext := ".bin"
	if len(exts) > 0 {
		ext = exts[0]
	}
	return "phan-" + p.Path + ext
}

// viewMessage is a message as webmail shows it.
type viewMessage struct {
	Header     mail.Header
	Subject    string
	From       []*mail.Address
	To, Cc     []*mail.Address
	ReplyTo    []*mail.Address
	Date       time.Time
	MessageID  string
	References []string

	Text        string // the text/plain body, "" when the message has only HTML
	HTML        string // the text/html body, unsanitised
	Attachments []*mimePart
	Parts       []*mimePart // every leaf, for downloads and cid: lookups
	SMIME       bool        // signed or encrypted with S/MIME (N2)
	Encrypted   bool        // application/pkcs7-mime enveloped data: the body cannot be shown
}

// partByPath finds a leaf by its number.
func (v *viewMessage) partByPath(path string) *mimePart {
	for _, p := range v.Parts {
		if p.Path == path {
			return p
		}
	}
	return nil
}

// partByCID finds a leaf by Content-ID.
func (v *viewMessage) partByCID(cid string) *mimePart {
	for _, p := range v.Parts {
		if p.ContentID != "" && strings.EqualFold(p.ContentID, cid) {
			return p
		}
	}
	return nil
}

// parseMessage reads raw for display. Like mailparse.Parse it never fails: what
// cannot be decoded is shown as it is or offered as a download. It walks the MIME
// tree with go-message's textproto layer rather than its Entity, because Entity
// converts every text part's charset, and an attachment must stay the sender's
// bytes.
func parseMessage(raw []byte) *viewMessage {
	v := &viewMessage{}
	br := bufio.NewReader(bytes.NewReader(raw))
	th, err := textproto.ReadHeader(br)
	if err != nil && th.Len() == 0 {
		// Not even a header: show the bytes as text.
		v.Text = cleanText(string(raw))
		return v
	}
	gh := gomessage.Header{Header: th}
	h := mail.Header{Header: gh}
	v.Header = h
	if s, err := h.Subject(); err == nil || s != "" {
		v.Subject = cleanLine(s)
	}
	v.From, _ = h.AddressList("From")
	v.To, _ = h.AddressList("To")
	v.Cc, _ = h.AddressList("Cc")
	v.ReplyTo, _ = h.AddressList("Reply-To")
	v.Date, _ = h.Date()
	v.MessageID, _ = h.MessageID()
	v.References, _ = h.MsgIDList("References")
	mt, params, _ := gh.ContentType()
	switch mt {
	case "multipart/signed":
		if isPKCS7(params["protocol"]) {
			v.SMIME = true
		}
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		v.SMIME = true
		if !strings.EqualFold(params["smime-type"], "signed-data") {
			v.Encrypted = true
		}
	}
	w := &partWalker{v: v}
	w.entity(gh, br, "", 1, "", 1)
	w.chooseBody()
	return v
}

func isPKCS7(t string) bool {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return true
	}
	return false
}

type partWalker struct {
	v *viewMessage
	// body parts chosen while walking.
	bodyText, bodyHTML []*mimePart
	// altSkip holds the paths of alternatives that were not chosen.
	altSkip map[string]bool
}

func childPath(parent string, i int) string {
	if parent == "" {
		return strconv.Itoa(i)
	}
	return parent + "." + strconv.Itoa(i)
}

// entity reads one entity: a multipart's children in turn, or one leaf. path is ""
// for the top-level multipart (its children are 1, 2, …); a top-level leaf is "1".
// It reports whether the entity holds an HTML body.
func (w *partWalker) entity(h gomessage.Header, body io.Reader, path string, depth int, parentType string, index int) bool {
	mt, params, err := h.ContentType()
	if err != nil || mt == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < maxPartDepth {
		return w.multipart(textproto.NewMultipartReader(body, params["boundary"]), path, depth, mt)
	}
	if path == "" {
		path = "1"
	}
	inRelated := parentType == "multipart/related" && index > 1
	p := w.leaf(h, body, path, mt, params, inRelated)
	return p.MediaType == "text/html" && !inRelated
}

// multipart reads the children of a multipart. For multipart/alternative it marks
// every alternative but the richest it can show as not-a-body, so the plain-text
// copy of an HTML message is neither shown twice nor listed as an attachment.
func (w *partWalker) multipart(mr *textproto.MultipartReader, path string, depth int, mt string) bool {
	type child struct {
		path string
		mt   string
		html bool
	}
	var kids []child
	for i := 1; len(w.v.Parts) < maxParts; i++ {
		p, err := mr.NextPart()
		if err != nil {
			break // io.EOF, or a broken boundary: what was read is shown
		}
		cp := childPath(path, i)
		ch := gomessage.Header{Header: p.Header}
		cmt, _, _ := ch.ContentType()
		html := w.entity(ch, p, cp, depth+1, mt, i)
		kids = append(kids, child{cp, cmt, html})
	}
	hasHTML := false
	for _, k := range kids {
		hasHTML = hasHTML || k.html
	}
	if mt != "multipart/alternative" || len(kids) < 2 {
		return hasHTML
	}
	best := -1
	for i, k := range kids {
		if k.html {
			best = i
		}
	}
	if best < 0 {
		for i, k := range kids {
			if k.mt == "text/plain" {
				best = i
			}
		}
	}
	if best < 0 {
		return hasHTML
	}
	if w.altSkip == nil {
		w.altSkip = map[string]bool{}
	}
	for i, k := range kids {
		if i != best {
			w.altSkip[k.path] = true
		}
	}
	return kids[best].html
}

// decodeTransfer removes a transfer encoding; an unknown one leaves the bytes as
// they are (the download then gives what was sent).
func decodeTransfer(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r})
	}
	return r
}

// base64Filter drops everything that is not base64 alphabet or padding (line
// breaks, indentation some mailers add), so a sloppy encoder's file still decodes.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

func (w *partWalker) leaf(h gomessage.Header, body io.Reader, path, mt string, params map[string]string, inRelated bool) *mimePart {
	disp, dparams, _ := h.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	p := &mimePart{
		Path:        path,
		MediaType:   strings.ToLower(mt),
		Charset:     strings.ToLower(params["charset"]),
		Disposition: strings.ToLower(disp),
		Filename:    cleanFilename(decodeRFC2047(name)),
		ContentID:   strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>"),
		InRelated:   inRelated,
	}
	p.Body, _ = io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	w.v.Parts = append(w.v.Parts, p)
	if p.Disposition != "attachment" && p.Filename == "" && !inRelated {
		switch p.MediaType {
		case "text/plain":
			w.bodyText = append(w.bodyText, p)
		case "text/html":
			w.bodyHTML = append(w.bodyHTML, p)
		}
	}
	return p
}

// decodeRFC2047 decodes a file name some mailers send as encoded words inside a
// parameter (not the standard, RFC 2231, which mime.ParseMediaType already did).
func decodeRFC2047(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if out, err := dec.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// underSkipped reports whether path lies inside an alternative that was not chosen.
func (w *partWalker) underSkipped(path string) bool {
	for skip := range w.altSkip {
		if path == skip || strings.HasPrefix(path, skip+".") {
			return true
		}
	}
	return false
}

// chooseBody decides what is shown and what is listed as an attachment.
func (w *partWalker) chooseBody() {
	shown := map[*mimePart]bool{}
	var htmls, texts []*mimePart
	for _, p := range w.bodyHTML {
		if !w.underSkipped(p.Path) {
			htmls = append(htmls, p)
		}
	}
	for _, p := range w.bodyText {
		if !w.underSkipped(p.Path) {
			texts = append(texts, p)
		}
	}
	if len(htmls) > 0 {
		var b strings.Builder
		for _, p := range htmls {
			b.WriteString(p.Text())
			shown[p] = true
		}
		// Plain parts beside an HTML body (a footer a list added) are shown under it.
		for _, p := range texts {
			b.WriteString("<pre>" + html.EscapeString(p.Text()) + "</pre>")
			shown[p] = true
		}
		w.v.HTML = b.String()
	} else {
		var parts []string
		for _, p := range texts {
			parts = append(parts, p.Text())
			shown[p] = true
		}
		w.v.Text = cleanText(strings.Join(parts, "\n\n"))
	}
	for _, p := range w.v.Parts {
		if shown[p] || w.underSkipped(p.Path) && p.Filename == "" {
			continue
		}
		// Images the HTML body shows by Content-ID are resources, not attachments,
		// even with a file name (Outlook names its signature images image001.png).
		if p.ContentID != "" && (p.InRelated && p.Filename == "" || strings.Contains(w.v.HTML, "cid:"+p.ContentID)) {
			continue
		}
		w.v.Attachments = append(w.v.Attachments, p)
	}
}

// cleanText keeps text displayable: valid UTF-8, NFC, no control characters but tab
// and newline.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// cleanLine is cleanText for one-line header values.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// cleanFilename drops path separators and control characters a sender may put in a
// file name, so a download is never saved outside the folder the user chose.
func cleanFilename(s string) string {
	s = cleanLine(s)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimLeft(s, ". ")
	if len(s) > 200 {
		s = s[:200]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// formatAddresses renders a list for display: "Tên <địa chỉ>".
func formatAddresses(l []*mail.Address) string {
	parts := make([]string, 0, len(l))
	for _, a := range l {
		if a.Name != "" {
			parts = append(parts, fmt.Sprintf("%s <%s>", cleanLine(a.Name), a.Address))
		} else {
			parts = append(parts, a.Address)
		}
	}
	return strings.Join(parts, ", ")
}

// htmlToText turns an HTML body into plain text for quoting in a reply.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return cleanText(collapseBlank(b.String()))
		case html.TextToken:
			if skip == 0 {
				t := strings.Join(strings.Fields(string(z.Text())), " ")
				if t != "" {
					b.WriteString(t)
					b.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			}
		}
	}
}

func collapseBlank(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
