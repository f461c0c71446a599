package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/text/unicode/norm"

	"govmail/internal/mailparse"
	"govmail/internal/store"
	"govmail/internal/web/mailhtml"
)

// Flags webmail reads and sets.
const (
	flagSeen    = `\Seen`
	flagFlagged = `\Flagged`
	flagDraft   = `\Draft`
)

// listItem is one row of a message list.
type listItem struct {
	UID        uint32
	MailboxID  int64
	Folder     string
	From       string
	Subject    string
	Date       string
	ISO        string
	Seen       bool
	Flagged    bool
	Attachment bool
	SMIME      bool
}

// listView is the body of a folder page.
type listView struct {
	Mailbox folderView
	Items   []listItem
	Page    int
	Pages   int
	Total   int
	First   int
	Last    int
	PrevURL string
	NextURL string
	// Sort is the list's order; SortOptions the menu to change it.
	Sort        string
	SortOptions []sortOption
	Targets     []folderView
	IsTrash     bool
	IsDrafts    bool
}

// mailbox finds one of the account's folders by the id in the URL. Looking it up in
// the account's own list is the access check: another account's folder id is simply
// not found.
func (s *Server) mailbox(ctx context.Context, rc *reqCtx, idText string) (*store.Mailbox, error) {
	id, ok := parseID(idText)
	if !ok {
		return nil, store.ErrNotFound
	}
	mbs, err := s.ownMailboxes(ctx, rc)
	if err != nil {
		return nil, err
	}
	for i := range mbs {
		if mbs[i].ID == id {
			return &mbs[i], nil
		}
	}
	// A unit mailbox the user is a delegate of right now (R9.1); the visit counts
	// as a login of that mailbox (R8.2).
	for _, u := range s.delegatedUnits(ctx, rc) {
		ums, err := s.d.Store.ListMailboxes(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for i := range ums {
			if ums[i].ID == id && !strings.HasPrefix(ums[i].Name, "#") {
				if err := s.d.Auth.DelegateAccess(ctx, u); err != nil {
					s.log.Warn("unit mailbox login not recorded", "unit", u.Address, "err", err)
				}
				return &ums[i], nil
			}
		}
	}
	return nil, store.ErrNotFound
}

func (s *Server) mailboxBySpecial(ctx context.Context, accountID int64, special string) (*store.Mailbox, error) {
	mbs, err := s.d.Store.ListMailboxes(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i := range mbs {
		if mbs[i].SpecialUse == special {
			return &mbs[i], nil
		}
	}
	return nil, fmt.Errorf("no %s folder: %w", special, store.ErrNotFound)
}

func (s *Server) notFoundOr(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, rc.lang, http.StatusNotFound, "error.not_found")
		return
	}
	s.serverError(w, r, rc.lang, err)
}

// handleList shows one page of a folder, newest first. Sorting and paging use the
// cached UID/date list (no metadata); only the page's 50 rows are read with their
// metadata, so the cost of a page does not grow with the folder.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	mb, err := s.mailbox(ctx, rc, r.PathValue("mb"))
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	order := r.URL.Query().Get("sort")
	if !slices.Contains(listOrders, order) {
		order = "newest"
	}
	sorted, err := s.orderedUIDs(ctx, mb.ID, order)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	total := len(sorted)
	pages := max(1, (total+PageSize-1)/PageSize)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = min(max(page, 1), pages)
	lo := (page - 1) * PageSize
	hi := min(lo+PageSize, total)
	items, err := s.listItems(ctx, rc, mb, sorted[lo:hi])
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	p, err := s.newPage(ctx, r, rc, s.folderName(rc.lang, mb), mb.ID)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	v := listView{Items: items, Page: page, Pages: pages, Total: total, First: lo + 1, Last: hi,
		IsTrash: mb.SpecialUse == store.SpecialTrash, IsDrafts: mb.SpecialUse == store.SpecialDrafts}
	if total == 0 {
		v.First = 0
	}
	base := "/mail/" + strconv.FormatInt(mb.ID, 10)
	sortQ := ""
	if order != "newest" {
		sortQ = "&sort=" + order
	}
	v.Sort, v.SortOptions = order, s.sortOptions(rc, order)
	if page > 1 {
		v.PrevURL = base + "?page=" + strconv.Itoa(page-1) + sortQ
	}
	if page < pages {
		v.NextURL = base + "?page=" + strconv.Itoa(page+1) + sortQ
	}
	v.Mailbox, v.Targets = splitFolders(p.Folders, mb.ID)
	p.Body = v
	s.render(w, r, http.StatusOK, "list", p)
}

// splitFolders picks the shown folder out of the list; the rest are where its
// messages can be moved.
func splitFolders(all []folderView, id int64) (cur folderView, targets []folderView) {
	for _, f := range all {
		if f.ID == id {
			cur = f
		} else {
			targets = append(targets, f)
		}
	}
	return cur, targets
}

// readMessages reads the given messages with metadata, in runs of neighbouring UIDs:
// the store reads a UID span, and a page whose dates do not follow UID order (mail
// imported with old dates) or a search hitting a few messages across a large
// folder must not make one read span the whole folder.
func (s *Server) readMessages(ctx context.Context, mbID int64, uids []uint32) (map[uint32]store.Message, error) {
	sorted := slices.Clone(uids)
	slices.Sort(sorted)
	byUID := make(map[uint32]store.Message, len(uids))
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end]-sorted[end-1] <= 16 {
			end++
		}
		msgs, err := s.d.Store.MessagesByUID(ctx, mbID, sorted[start:end], true)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			byUID[m.UID] = m
		}
		start = end
	}
	return byUID, nil
}

// listItems reads the given messages with metadata and returns them in the order of
// uids. UIDs are read in runs of neighbours, so a page whose dates do not follow UID
// order (mail imported with old dates) never makes one read span the whole folder.
func (s *Server) listItems(ctx context.Context, rc *reqCtx, mb *store.Mailbox, uids []uint32) ([]listItem, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	byUID, err := s.readMessages(ctx, mb.ID, uids)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	folder := s.folderName(rc.lang, mb)
	out := make([]listItem, 0, len(uids))
	for _, u := range uids {
		m, ok := byUID[u]
		if !ok {
			continue // expunged since the list was read
		}
		out = append(out, s.listItem(rc, mb, folder, &m))
	}
	return out, nil
}

func (s *Server) listItem(rc *reqCtx, mb *store.Mailbox, folder string, m *store.Message) listItem {
	it := listItem{UID: m.UID, MailboxID: mb.ID, Folder: folder,
		Seen: slices.Contains(m.Flags, flagSeen), Flagged: slices.Contains(m.Flags, flagFlagged),
		Date: s.formatListDate(rc.lang, m.InternalDate), ISO: m.InternalDate.Format(time.RFC3339)}
	env, bs, err := mailparse.DecodeMeta(m.Meta)
	if err != nil || env == nil {
		it.Subject = s.cat.T(rc.lang, "list.no_subject")
		return it
	}
	it.Subject = cleanLine(env.Subject)
	if it.Subject == "" {
		it.Subject = s.cat.T(rc.lang, "list.no_subject")
	}
	// In Sent and Drafts the interesting name is the recipient's.
	people := env.From
	if mb.SpecialUse == store.SpecialSent || mb.SpecialUse == store.SpecialDrafts {
		people = env.To
	}
	names := make([]string, 0, len(people))
	for _, a := range people {
		if a.Name != "" {
			names = append(names, cleanLine(a.Name))
		} else {
			names = append(names, a.Addr())
		}
	}
	it.From = strings.Join(names, ", ")
	if bs != nil {
		it.Attachment = hasAttachment(bs)
		if mt := bs.MediaType(); mt == "multipart/signed" || mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime" {
			it.SMIME = true
		}
	}
	return it
}

func hasAttachment(bs imap.BodyStructure) bool {
	found := false
	bs.Walk(func(_ []int, part imap.BodyStructure) bool {
		sp, ok := part.(*imap.BodyStructureSinglePart)
		if !ok {
			return !found
		}
		if strings.HasPrefix(strings.ToLower(sp.Type), "application") && strings.Contains(strings.ToLower(sp.Subtype), "pkcs7-signature") {
			return false
		}
		d := sp.Disposition()
		switch {
		case d != nil && strings.EqualFold(d.Value, "attachment"):
			found = true
		case sp.ID != "" && (d == nil || strings.EqualFold(d.Value, "inline")):
			// An inline image with a Content-ID belongs to the HTML body.
		case sp.Filename() != "":
			found = true
		}
		return !found
	})
	return found
}

// readView is the body of the read page.
type readView struct {
	Mailbox       folderView
	UID           uint32
	Subject       string
	From          string
	To            string
	Cc            string
	ReplyTo       string
	Date          string
	ISO           string
	TextHTML      template.HTML
	HasHTML       bool
	BodyURL       string
	ImagesURL     string
	BlockedImages int
	// SuspiciousLinks and the Dangerous mark of attachments are the warnings of R17.3.
	SuspiciousLinks int
	Attachments     []attachmentView
	SMIME           bool
	Encrypted       bool
	// SMIMEStatus is who signed and what verified; nil when not signed.
	SMIMEStatus *smimeStatusView
	Flagged     bool
	IsDraft     bool
	IsTrash     bool
	RawURL      string
	Targets     []folderView
	// ReportURL posts the message to the security contact and the operators
	// (R13.1, R17.3); "" when the server has no report hook.
	ReportURL string
	// DMARCFail: our Authentication-Results says dmarc=fail (R17.3, dmarcwarn.go).
	DMARCFail bool
}

type attachmentView struct {
	Name      string
	Size      string
	Type      string
	URL       string
	Dangerous bool
}

// executable reports whether a file name is of a kind that runs code when opened
// (R17.3 asks webmail to warn about such attachments); office files with macros
// and disk images that mount executables count too.
func executable(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta",
		".msi", ".msp", ".jar", ".ps1", ".psm1", ".lnk", ".reg", ".cpl", ".dll", ".iso", ".img", ".vhd", ".vhdx",
		".docm", ".xlsm", ".pptm", ".dotm", ".xltm", ".apk", ".sh", ".appx", ".msix":
		return true
	}
	return false
}

// loadMessage reads one message of a folder the account owns.
func (s *Server) loadMessage(ctx context.Context, rc *reqCtx, r *http.Request) (*store.Mailbox, *store.Message, []byte, error) {
	mb, err := s.mailbox(ctx, rc, r.PathValue("mb"))
	if err != nil {
		return nil, nil, nil, err
	}
	m, raw, err := s.readStored(ctx, mb.ID, r.PathValue("uid"))
	if err != nil {
		return nil, nil, nil, err
	}
	return mb, m, raw, nil
}

// readStored reads one message of a folder already checked, with its bytes;
// a UID that is not a number or not in the folder is store.ErrNotFound.
func (s *Server) readStored(ctx context.Context, mbID int64, uidText string) (*store.Message, []byte, error) {
	uid, ok := parseUID(uidText)
	if !ok {
		return nil, nil, store.ErrNotFound
	}
	msgs, err := s.d.Store.MessagesByUID(ctx, mbID, []uint32{uid}, false)
	if err != nil {
		return nil, nil, err
	}
	if len(msgs) != 1 {
		return nil, nil, store.ErrNotFound
	}
	raw, err := s.d.Store.ReadBlob(ctx, msgs[0].BlobID)
	if err != nil {
		return nil, nil, err
	}
	return &msgs[0], raw, nil
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	mb, m, raw, err := s.loadMessage(ctx, rc, r)
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	// Opening a message marks it read, as in every mail client.
	if !slices.Contains(m.Flags, flagSeen) {
		if _, err := s.d.Store.StoreFlags(ctx, mb.ID, []uint32{m.UID}, store.FlagsAdd, []string{flagSeen}); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		s.cache.invalidate(mb.ID)
	}
	v := parseMessage(raw)
	p, err := s.newPage(ctx, r, rc, v.Subject, mb.ID)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	base := fmt.Sprintf("/mail/%d/%d", mb.ID, m.UID)
	rv := readView{
		UID: m.UID, Subject: v.Subject, From: formatAddresses(v.From), To: formatAddresses(v.To),
		Cc: formatAddresses(v.Cc), ReplyTo: formatAddresses(v.ReplyTo),
		Date: s.formatFullDate(rc.lang, v.Date), SMIME: v.SMIME, Encrypted: v.Encrypted,
		Flagged: slices.Contains(m.Flags, flagFlagged), IsDraft: mb.SpecialUse == store.SpecialDrafts,
		IsTrash: mb.SpecialUse == store.SpecialTrash, RawURL: base + "/raw",
	}
	rv.DMARCFail = dmarcFailed(raw, s.d.Config.Hostname)
	if s.d.Report != nil && !rv.IsDraft {
		rv.ReportURL = base + "/report"
	}
	if v.SMIME && !v.Encrypted {
		from := make([]string, 0, len(v.From))
		for _, a := range v.From {
			from = append(from, a.Address)
		}
		rv.SMIMEStatus = s.smimeStatus(rc.lang, raw, from)
	}
	if rv.Subject == "" {
		rv.Subject = p.T("list.no_subject")
		p.Title = rv.Subject
	}
	if !v.Date.IsZero() {
		rv.ISO = v.Date.Format(time.RFC3339)
	} else {
		rv.Date = s.formatFullDate(rc.lang, m.InternalDate)
	}
	if v.ReplyTo != nil && formatAddresses(v.ReplyTo) == rv.From {
		rv.ReplyTo = ""
	}
	images := r.URL.Query().Get("images") == "1"
	if v.HTML != "" {
		rv.HasHTML = true
		res := s.san.Sanitize(v.HTML, mailhtml.Options{RemoteImages: images, CID: s.cidResolver(v, base)})
		rv.BlockedImages = res.BlockedImages
		rv.SuspiciousLinks = res.SuspiciousLinks
		rv.BodyURL = base + "/body"
		if images {
			rv.BodyURL += "?images=1"
		}
		rv.ImagesURL = base + "?images=1"
	} else {
		rv.TextHTML = linkify(v.Text)
	}
	for _, a := range v.Attachments {
		rv.Attachments = append(rv.Attachments, attachmentView{
			Name: a.Name(), Size: humanSize(rc.lang, int64(a.Size())), Type: a.MediaType,
			URL: base + "/part/" + a.Path, Dangerous: executable(a.Name()),
		})
	}
	rv.Mailbox, rv.Targets = splitFolders(p.Folders, mb.ID)
	p.Body = rv
	s.render(w, r, http.StatusOK, "read", p)
}

// cidResolver maps Content-IDs of the message to our inline part URLs.
func (s *Server) cidResolver(v *viewMessage, base string) func(string) (string, bool) {
	return func(cid string) (string, bool) {
		p := v.partByCID(cid)
		if p == nil || !inlineImage(p.MediaType) {
			return "", false
		}
		return base + "/part/" + p.Path + "?inline=1", true
	}
}

// inlineImage lists the image types shown inside a message. SVG is not among them:
// an SVG document can carry script.
func inlineImage(mediaType string) bool {
	switch mediaType {
	case "image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "image/bmp":
		return true
	}
	return false
}

// bodyCSP is the policy of a sanitised mail body: nothing but images (our own, and
// remote ones only when the reader asked) and inline style may load, no script, no
// form, no base; the sandbox repeats the iframe's own so that opening the body URL
// directly is no less safe.
func bodyCSP(remoteImages bool) string {
	img := "img-src 'self' data:"
	if remoteImages {
		img += " https: http:"
	}
	return "default-src 'none'; " + img + "; style-src 'unsafe-inline'; font-src 'none'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors 'self'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
}

// frameStyle is our own small stylesheet for mail bodies; the frame's CSP allows
// inline style (mail needs its style attributes), never script.
const frameStyle = `<style>html,body{margin:0;padding:0}body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;color:#1d2433;padding:4px 2px;overflow-wrap:anywhere}img{max-width:100%;height:auto}img[data-blocked]{display:inline-block;min-width:24px;min-height:24px;background:#eef1f5;border:1px dashed #b8c0cc}a[data-suspicious]{background:#fdecea;outline:1px solid #e4a19c;color:#8a1c14}a[data-suspicious]::after{content:" ⚠ " attr(title)}table{max-width:100%}pre{white-space:pre-wrap}a{color:#0b57a4}blockquote{margin:0 0 0 .6em;padding-left:.8em;border-left:3px solid #c8d0dc;color:#444}</style>`

// handleBody serves the sanitised HTML body for the sandboxed iframe of the read page.
func (s *Server) handleBody(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	mb, m, raw, err := s.loadMessage(ctx, rc, r)
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	v := parseMessage(raw)
	images := r.URL.Query().Get("images") == "1"
	base := fmt.Sprintf("/mail/%d/%d", mb.ID, m.UID)
	body := v.HTML
	if body == "" {
		body = "<pre>" + template.HTMLEscapeString(v.Text) + "</pre>"
	}
	res := s.san.Sanitize(body, mailhtml.Options{RemoteImages: images, CID: s.cidResolver(v, base)})
	h := w.Header()
	h.Set("Content-Security-Policy", bodyCSP(images))
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">%s</head><body>%s</body></html>", frameStyle, res.HTML)
}

// handleReportMessage reports a message as suspicious (R13.1): the hook
// forwards it, attached as it is stored, to the unit's security contact and the
// operators, and records the report. The message stays where it is: the user
// deletes it or not, as Điều 17 asks.
func (s *Server) handleReportMessage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.d.Report == nil {
		s.renderError(w, r, rc.lang, http.StatusNotFound, "error.not_found")
		return
	}
	mb, m, raw, err := s.loadMessage(r.Context(), rc, r)
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	s.d.Report(rc.acct.ID, raw)
	s.log.Info("message reported", "account", rc.acct.Address, "mailbox", mb.ID, "uid", m.UID, "ip", clientIP(r))
	http.Redirect(w, r, addNotice(fmt.Sprintf("/mail/%d/%d", mb.ID, m.UID), "reported"), http.StatusSeeOther)
}

// handlePart downloads one part. Everything is sent as an attachment of type
// application/octet-stream with nosniff and a sandbox CSP, so no part (an HTML or
// SVG file a sender attached) can run as a page of our origin; only raster images
// referenced by Content-ID are served inline, for the mail body.
func (s *Server) handlePart(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	_, _, raw, err := s.loadMessage(ctx, rc, r)
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	v := parseMessage(raw)
	p := v.partByPath(r.PathValue("part"))
	if p == nil {
		s.renderError(w, r, rc.lang, http.StatusNotFound, "error.not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("inline") == "1" && inlineImage(p.MediaType) {
		h.Set("Content-Type", p.MediaType)
		h.Set("Content-Disposition", "inline")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", contentDisposition(p.Name()))
	}
	h.Set("Content-Length", strconv.Itoa(len(p.Body)))
	w.Write(p.Body)
}

// handleRaw downloads the message exactly as stored (N2: an S/MIME signature still
// verifies on the downloaded file).
func (s *Server) handleRaw(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	_, _, raw, err := s.loadMessage(ctx, rc, r)
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	v := parseMessage(raw)
	name := v.Subject
	if name == "" {
		name = "thu"
	}
	if len(name) > 80 {
		name = strings.ToValidUTF8(name[:80], "")
	}
	h := w.Header()
	h.Set("Content-Type", "message/rfc822")
	h.Set("Content-Disposition", contentDisposition(cleanFilename(name)+".eml"))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.Write(raw)
}

// contentDisposition writes an attachment header with an ASCII fallback name and
// the exact UTF-8 name (RFC 6266, RFC 5987), so Vietnamese file names survive.
func contentDisposition(name string) string {
	if name == "" {
		name = "tep"
	}
	fallback := asciiName(name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": fallback})
	if fallback != name {
		v += "; filename*=UTF-8''" + url.PathEscape(name)
	}
	return v
}

// asciiName strips diacritics (đ → d) and replaces what is left outside printable
// ASCII, for browsers that read only filename=.
func asciiName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		case unicode.Is(unicode.Mn, r):
		case r >= 0x20 && r < 0x7f && r != '"' && r != '\\':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"'()\[\]]+[^\s<>"'()\[\].,;:!?]`)

// linkify escapes plain text and turns http(s) addresses into links that open
// outside webmail without a referrer.
func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:loc[0]]))
		u := text[loc[0]:loc[1]]
		esc := template.HTMLEscapeString(u)
		fmt.Fprintf(&b, `<a href="%s" target="_blank" rel="noopener noreferrer nofollow">%s</a>`, esc, esc)
		last = loc[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// handleAction applies one action to the selected messages of a folder.
func (s *Server) handleAction(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	mb, err := s.mailbox(ctx, rc, r.PathValue("mb"))
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	var uids []uint32
	for _, u := range r.PostForm["uid"] {
		if v, ok := parseUID(u); ok {
			uids = append(uids, v)
		}
	}
	slices.Sort(uids)
	uids = slices.Compact(uids)
	back := "/mail/" + strconv.FormatInt(mb.ID, 10)
	if pg, err := strconv.Atoi(r.PostFormValue("page")); err == nil && pg > 1 {
		back += "?page=" + strconv.Itoa(pg)
	}
	if ret := r.PostFormValue("return"); ret != "" {
		back = localPath(ret)
	}
	if len(uids) == 0 {
		http.Redirect(w, r, addNotice(back, "none_selected"), http.StatusSeeOther)
		return
	}
	op := r.PostFormValue("op")
	notice := ""
	switch op {
	case "read", "unread", "flag", "unflag":
		fop, flag := store.FlagsAdd, flagSeen
		switch op {
		case "unread":
			fop = store.FlagsRemove
		case "flag":
			flag = flagFlagged
		case "unflag":
			fop, flag = store.FlagsRemove, flagFlagged
		}
		if _, err := s.d.Store.StoreFlags(ctx, mb.ID, uids, fop, []string{flag}); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		s.cache.invalidate(mb.ID)
		notice = "updated"
	case "move":
		if r.PostFormValue("to") == "" {
			http.Redirect(w, r, addNotice(back, "choose_folder"), http.StatusSeeOther)
			return
		}
		dst, err := s.mailbox(ctx, rc, r.PostFormValue("to"))
		if err != nil {
			s.notFoundOr(w, r, rc, err)
			return
		}
		if dst.ID != mb.ID {
			if _, err := s.d.Store.Move(ctx, mb.ID, uids, dst.ID); err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
		}
		s.cache.invalidate(mb.ID, dst.ID)
		notice = "moved"
		back = stayInFolder(back, mb.ID)
	case "delete":
		// Delete moves to Trash; in Trash it removes for good.
		if mb.SpecialUse == store.SpecialTrash {
			if _, err := s.d.Store.Expunge(ctx, mb.ID, uids); err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
			s.cache.invalidate(mb.ID)
			notice = "expunged"
		} else {
			trash, err := s.mailboxBySpecial(ctx, rc.acct.ID, store.SpecialTrash)
			if err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
			if _, err := s.d.Store.Move(ctx, mb.ID, uids, trash.ID); err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
			s.cache.invalidate(mb.ID, trash.ID)
			notice = "deleted"
		}
		back = stayInFolder(back, mb.ID)
	default:
		s.renderError(w, r, rc.lang, http.StatusBadRequest, "error.bad_request")
		return
	}
	http.Redirect(w, r, addNotice(back, notice), http.StatusSeeOther)
}

// stayInFolder sends the user back to the folder list after the message they were
// reading has left it.
func stayInFolder(back string, mbID int64) string {
	prefix := "/mail/" + strconv.FormatInt(mbID, 10) + "/"
	if strings.HasPrefix(back, prefix) {
		return "/mail/" + strconv.FormatInt(mbID, 10)
	}
	return back
}

func addNotice(target, notice string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Del("images")
	q.Set("n", notice)
	u.RawQuery = q.Encode()
	return u.String()
}

// searchView is the body of the search page.
type searchView struct {
	Query   string
	Items   []listItem
	Total   int
	Limited bool
}

// maxSearchResults bounds one search page.
const maxSearchResults = 200

// handleSearch searches every folder of the account, accent-insensitively: the
// store folds the query the way it folded the text (textfold), so "bao cao" finds
// "Báo cáo".
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p, err := s.newPage(ctx, r, rc, "", 0)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	p.Title = p.T("search.title")
	p.Query = q
	v := searchView{Query: q}
	if len(mailparse.NewQuery(q)) > 0 {
		mbs, err := s.ownMailboxes(ctx, rc)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		type hit struct {
			mb  *store.Mailbox
			uid uint32
		}
		var hits []hit
		for i := range mbs {
			uids, err := s.d.Store.SearchText(ctx, mbs[i].ID, q)
			if err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
			for _, u := range uids {
				hits = append(hits, hit{&mbs[i], u})
			}
		}
		v.Total = len(hits)
		// Read per folder, then order all hits newest first.
		byMB := map[int64][]uint32{}
		mbOf := map[int64]*store.Mailbox{}
		for _, h := range hits {
			byMB[h.mb.ID] = append(byMB[h.mb.ID], h.uid)
			mbOf[h.mb.ID] = h.mb
		}
		type dated struct {
			it   listItem
			date time.Time
		}
		var all []dated
		for id, uids := range byMB {
			// Newest UIDs first: when a folder has more hits than a page shows, the
			// recent ones are what people look for.
			if len(uids) > maxSearchResults {
				uids = uids[len(uids)-maxSearchResults:]
				v.Limited = true
			}
			msgs, err := s.readMessages(ctx, id, uids)
			if err != nil {
				s.serverError(w, r, rc.lang, err)
				return
			}
			folder := s.folderName(rc.lang, mbOf[id])
			for _, m := range msgs {
				all = append(all, dated{s.listItem(rc, mbOf[id], folder, &m), m.InternalDate})
			}
		}
		slices.SortFunc(all, func(a, b dated) int {
			if c := b.date.Compare(a.date); c != 0 {
				return c
			}
			if a.it.MailboxID != b.it.MailboxID {
				return cmp.Compare(a.it.MailboxID, b.it.MailboxID)
			}
			return cmp.Compare(b.it.UID, a.it.UID)
		})
		if len(all) > maxSearchResults {
			all = all[:maxSearchResults]
			v.Limited = true
		}
		for _, d := range all {
			v.Items = append(v.Items, d.it)
		}
	}
	p.Body = v
	s.render(w, r, http.StatusOK, "search", p)
}
