package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-message/mail"
	"golang.org/x/text/unicode/norm"

	"govmail/internal/address"
	"govmail/internal/delivery"
	"govmail/internal/store"
)

// composeView is the body of the compose page.
type composeView struct {
	// From is the chosen sender; FromChoices the user's own address and the unit
	// mailboxes they are a delegate of (Điều 9).
	From        string
	FromChoices []string
	To, Cc, Bcc string
	Subject     string
	Text        string
	// RefKind is reply, replyall, forward or draft; RefMB and RefUID name the
	// message it refers to, re-read on the server when the form comes back (the
	// browser never supplies header values such as In-Reply-To).
	RefKind  string
	RefMB    int64
	RefUID   uint32
	Carry    []carryView
	MaxBytes int64
	MaxHuman string
	ShowCc   bool
	// NonStandard lists attached files outside the national standard formats
	// (R3.4); the sender confirms before they are sent.
	NonStandard []string
	// CanSign offers S/MIME signing (the account has a signing identity); Sign
	// is the user's choice, on by default since state mail is to be signed
	// (Thông tư 39/2017).
	CanSign bool
	Sign    bool
}

// standardFormat reports whether a file name has one of the standard formats of
// R3.4 (Điều 3.3). R3.4's per-type allow/warn/block policy belongs to the shared
// configuration once it exists; until then webmail applies the default: listed
// types pass, others warn.
func standardFormat(name string) bool {
	switch strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")) {
	case "txt", "rtf", "pdf", "doc", "docx", "odt", "csv", "xls", "xlsx", "ods", "htm", "html", "ppt", "pptx", "odp",
		"jpeg", "jpg", "gif", "tiff", "tif", "png", "zip", "gz", "mpeg", "mpg", "mp3", "aac":
		return true
	}
	return false
}

// carryView is an attachment of the referenced message offered for reuse
// (forward, or a draft being continued).
type carryView struct {
	Path string
	Name string
	Size string
	Keep bool
}

// ref is the message a compose form refers to.
type ref struct {
	kind string
	mb   *store.Mailbox
	uid  uint32
	v    *viewMessage
}

func (s *Server) loadRef(ctx context.Context, rc *reqCtx, kind, mbText, uidText string) (*ref, error) {
	switch kind {
	case "reply", "replyall", "forward", "draft":
	default:
		return nil, nil
	}
	mb, err := s.mailbox(ctx, rc, mbText)
	if err != nil {
		return nil, err
	}
	if kind == "draft" && mb.SpecialUse != store.SpecialDrafts {
		// Continuing a draft deletes it once saved or sent: only a message of
		// Drafts may be one.
		return nil, store.ErrNotFound
	}
	m, raw, err := s.readStored(ctx, mb.ID, uidText)
	if err != nil {
		return nil, err
	}
	return &ref{kind: kind, mb: mb, uid: m.UID, v: parseMessage(raw)}, nil
}

func (s *Server) composePage(ctx context.Context, r *http.Request, rc *reqCtx, v composeView) (*pageData, error) {
	p, err := s.newPage(ctx, r, rc, "", 0)
	if err != nil {
		return nil, err
	}
	p.Title = p.T("compose.title")
	v.MaxBytes = s.maxMessageBytes()
	v.MaxHuman = humanSize(rc.lang, v.MaxBytes)
	v.ShowCc = v.ShowCc || v.Cc != "" || v.Bcc != ""
	v.CanSign = s.hasSMIMEIdentity(ctx, rc.acct.ID)
	p.Body = v
	return p, nil
}

// handleComposeForm opens a new message, a reply, a reply to all, a forward or a
// saved draft.
func (s *Server) handleComposeForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	q := r.URL.Query()
	v := composeView{To: q.Get("to"), FromChoices: s.fromChoices(ctx, rc), Sign: true}
	for _, kind := range []string{"reply", "replyall", "forward", "draft"} {
		if q.Get(kind) == "" {
			continue
		}
		mbText, uidText, _ := strings.Cut(q.Get(kind), ":")
		rf, err := s.loadRef(ctx, rc, kind, mbText, uidText)
		if err != nil {
			s.notFoundOr(w, r, rc, err)
			return
		}
		s.prefill(rc, &v, rf)
		break
	}
	s.applySignature(ctx, rc, &v)
	p, err := s.composePage(ctx, r, rc, v)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	s.render(w, r, http.StatusOK, "compose", p)
}

func (s *Server) prefill(rc *reqCtx, v *composeView, rf *ref) {
	o := rf.v
	v.RefKind, v.RefMB, v.RefUID = rf.kind, rf.mb.ID, rf.uid
	me := strings.ToLower(rc.acct.Address)
	replyTo := o.ReplyTo
	if len(replyTo) == 0 {
		replyTo = o.From
	}
	body := o.Text
	if body == "" && o.HTML != "" {
		body = htmlToText(o.HTML)
	}
	switch rf.kind {
	case "reply", "replyall":
		v.Subject = prefixed(o.Subject, "Re:")
		to := replyTo
		var cc []*mail.Address
		if rf.kind == "replyall" {
			to = append(slices.Clone(to), o.To...)
			cc = o.Cc
		}
		seen := map[string]bool{me: true}
		v.To = joinAddrs(dedupe(to, seen))
		v.Cc = joinAddrs(dedupe(cc, seen))
		v.Text = "\n\n" + s.cat.T(rc.lang, "compose.quote_header", s.formatFullDate(rc.lang, o.Date), formatAddresses(o.From)) + "\n" + quote(body)
	case "forward":
		v.Subject = prefixed(o.Subject, "Fwd:")
		v.Text = "\n\n" + s.cat.T(rc.lang, "compose.forward_header") + "\n" +
			s.cat.T(rc.lang, "compose.fwd_from") + " " + formatAddresses(o.From) + "\n" +
			s.cat.T(rc.lang, "compose.fwd_date") + " " + s.formatFullDate(rc.lang, o.Date) + "\n" +
			s.cat.T(rc.lang, "compose.fwd_subject") + " " + o.Subject + "\n" +
			s.cat.T(rc.lang, "compose.fwd_to") + " " + formatAddresses(o.To) + "\n\n" + body
		v.Carry = carryAll(rc, o)
	case "draft":
		v.To, v.Cc = joinAddrs(o.To), joinAddrs(o.Cc)
		if bcc, err := o.Header.AddressList("Bcc"); err == nil {
			v.Bcc = joinAddrs(bcc)
		}
		v.Subject = o.Subject
		v.Text = body
		v.Carry = carryAll(rc, o)
	}
}

func carryAll(rc *reqCtx, o *viewMessage) []carryView {
	out := make([]carryView, 0, len(o.Attachments))
	for _, a := range o.Attachments {
		out = append(out, carryView{Path: a.Path, Name: a.Name(), Size: humanSize(rc.lang, int64(a.Size())), Keep: true})
	}
	return out
}

// prefixed adds "Re:" or "Fwd:" once, also recognising the Vietnamese forms other
// clients write.
func prefixed(subject, prefix string) string {
	l := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range []string{strings.ToLower(prefix), "tl:", "trả lời:", "re:", "fw:", "fwd:", "chuyển tiếp:"} {
		if strings.HasPrefix(l, p) && (prefix == "Re:") == (p == "re:" || p == "tl:" || p == "trả lời:") {
			return subject
		}
	}
	return prefix + " " + subject
}

func quote(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ">") {
			lines[i] = ">" + l
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

func dedupe(l []*mail.Address, seen map[string]bool) []*mail.Address {
	var out []*mail.Address
	for _, a := range l {
		k := strings.ToLower(a.Address)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	return out
}

// joinAddrs writes addresses for a form field, names in plain UTF-8 (quoted when
// they hold characters that separate addresses) so that parseAddrs reads them back.
func joinAddrs(l []*mail.Address) string {
	parts := make([]string, 0, len(l))
	for _, a := range l {
		name := cleanLine(a.Name)
		switch {
		case name == "":
			parts = append(parts, a.Address)
		case strings.ContainsAny(name, `,;:<>@()[]."\`):
			parts = append(parts, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)+`" <`+a.Address+`>`)
		default:
			parts = append(parts, name+" <"+a.Address+">")
		}
	}
	return strings.Join(parts, ", ")
}

// parseAddrs reads a To/Cc/Bcc field: commas or semicolons between addresses,
// display names in any script.
func parseAddrs(field string) ([]*mail.Address, error) {
	field = strings.TrimSpace(strings.ReplaceAll(field, ";", ","))
	field = strings.Trim(field, ", ")
	if field == "" {
		return nil, nil
	}
	l, err := mail.ParseAddressList(field)
	if err != nil {
		return nil, err
	}
	for _, a := range l {
		a.Address = strings.ToLower(strings.TrimSpace(a.Address))
		a.Name = cleanLine(a.Name)
	}
	return l, nil
}

// handleCompose saves a draft or sends. The form was read within the message size
// limit by authed (R11.5).
func (s *Server) handleCompose(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	f := r.PostForm
	v := composeView{
		From: f.Get("from"), FromChoices: s.fromChoices(ctx, rc),
		To: f.Get("to"), Cc: f.Get("cc"), Bcc: f.Get("bcc"),
		Subject: cleanLine(f.Get("subject")), Text: norm.NFC.String(strings.ToValidUTF8(f.Get("body"), "\uFFFD")),
		RefKind: f.Get("ref_kind"), Sign: f.Get("smime_sign") == "1",
	}
	rf, err := s.loadRef(ctx, rc, v.RefKind, f.Get("ref_mb"), f.Get("ref_uid"))
	if err != nil {
		s.notFoundOr(w, r, rc, err)
		return
	}
	if rf != nil {
		v.RefMB, v.RefUID = rf.mb.ID, rf.uid
		keep := map[string]bool{}
		for _, k := range f["keep"] {
			keep[k] = true
		}
		for _, c := range carryAll(rc, rf.v) {
			c.Keep = keep[c.Path]
			v.Carry = append(v.Carry, c)
		}
	}
	var errs []string
	to, err := parseAddrs(v.To)
	if err != nil {
		errs = append(errs, s.cat.T(rc.lang, "compose.err.address", s.cat.T(rc.lang, "compose.to")))
	}
	cc, err := parseAddrs(v.Cc)
	if err != nil {
		errs = append(errs, s.cat.T(rc.lang, "compose.err.address", s.cat.T(rc.lang, "compose.cc")))
	}
	bcc, err := parseAddrs(v.Bcc)
	if err != nil {
		errs = append(errs, s.cat.T(rc.lang, "compose.err.address", s.cat.T(rc.lang, "compose.bcc")))
	}
	atts, err := s.gatherAttachments(r, rf, v.Carry)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	send := f.Get("action") != "save"
	if send && len(to)+len(cc)+len(bcc) == 0 && len(errs) == 0 {
		errs = append(errs, s.cat.T(rc.lang, "compose.err.no_recipient"))
	}
	from := &mail.Address{Address: rc.acct.Address}
	if n := rc.acct.DisplayName; n != "" && !strings.Contains(n, "@") {
		from.Name = n
	}
	var sender *mail.Address
	if v.From != "" && !strings.EqualFold(v.From, rc.acct.Address) {
		// Điều 9.3: one sends only from a mailbox one holds or manages; the
		// same decision as SMTP submission's.
		box, err := s.d.Auth.SendAs(ctx, rc.acct, v.From)
		if err != nil {
			errs = append(errs, s.cat.T(rc.lang, "compose.err.send_as", v.From))
		} else {
			rc.sendAs = box
			sender = from
			from = &mail.Address{Address: box.Address, Name: box.DisplayName}
		}
	}
	om := &outMessage{From: from, Sender: sender, To: to, Cc: cc, Bcc: bcc, Subject: v.Subject, Text: v.Text,
		Attachments: atts, Date: s.d.Clock.Now().In(s.loc), Hostname: s.d.Config.Hostname}
	if om.Hostname == "" {
		om.Hostname = "localhost"
	}
	if rf != nil {
		switch rf.kind {
		case "reply", "replyall":
			if rf.v.MessageID != "" {
				om.InReplyTo = rf.v.MessageID
				om.References = append(slices.Clone(rf.v.References), rf.v.MessageID)
			}
		case "draft":
			if irt, err := rf.v.Header.MsgIDList("In-Reply-To"); err == nil && len(irt) > 0 {
				om.InReplyTo = irt[0]
			}
			om.References = rf.v.References
		}
	}
	if send && len(errs) == 0 && f.Get("confirm_types") != "1" {
		for _, at := range atts {
			if !standardFormat(at.Name) {
				v.NonStandard = append(v.NonStandard, at.Name)
			}
		}
		if len(v.NonStandard) > 0 {
			errs = append(errs, s.cat.T(rc.lang, "compose.err.nonstandard", strings.Join(v.NonStandard, ", ")))
		}
	}
	var local []delivery.Recipient
	var remote []string
	if send && len(errs) == 0 {
		local, remote, errs = s.resolveRecipients(ctx, rc, append(append(slices.Clone(to), cc...), bcc...))
		if len(remote) > 0 && s.d.Outbound == nil {
			errs = append(errs, s.cat.T(rc.lang, "compose.err.remote", strings.Join(remote, ", ")))
		}
	}
	if len(errs) > 0 {
		s.composeError(w, r, rc, v, om, rf, errs)
		return
	}
	om.KeepBcc = true
	copyRaw, msgID, err := om.build("")
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	if int64(len(copyRaw)) > s.maxMessageBytes() {
		s.composeError(w, r, rc, v, nil, rf, []string{s.cat.T(rc.lang, "error.too_large", humanSize(rc.lang, s.maxMessageBytes()))})
		return
	}
	if !send {
		if _, err := s.saveDraft(ctx, rc, copyRaw, rf); err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		drafts, err := s.mailboxBySpecial(ctx, rc.acct.ID, store.SpecialDrafts)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/mail/%d?n=draft_saved", drafts.ID), http.StatusSeeOther)
		return
	}
	// The copy for recipients carries the Sent copy's Message-ID.
	om.KeepBcc = false
	wireRaw, _, err := om.build(msgID)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	if v.Sign {
		// What is signed is what goes out, to the queue and to Sent: nothing
		// after this point may change the bytes (N2).
		sw, sc, problem, err := s.signOutgoing(ctx, rc, wireRaw, copyRaw)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		if problem != "" {
			s.composeError(w, r, rc, v, nil, rf, []string{s.cat.T(rc.lang, problem)})
			return
		}
		wireRaw, copyRaw = sw, sc
		if int64(len(copyRaw)) > s.maxMessageBytes() {
			s.composeError(w, r, rc, v, nil, rf, []string{s.cat.T(rc.lang, "error.too_large", humanSize(rc.lang, s.maxMessageBytes()))})
			return
		}
	}
	if s.d.SendGuard != nil {
		all := make([]string, 0, len(local)+len(remote))
		for _, l := range local {
			all = append(all, l.Address)
		}
		all = append(all, remote...)
		held, err := s.d.SendGuard(ctx, rc.acct, all, wireRaw)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		if held {
			s.log.Warn("webmail message held by the sending limits", "account", rc.acct.Address, "recipients", len(all))
			s.renderMessage(w, r, rc.lang, http.StatusForbidden, s.cat.T(rc.lang, "compose.held.title"), s.cat.T(rc.lang, "compose.held.text"))
			return
		}
	}
	failed, err := s.sendMessage(ctx, r, rc, wireRaw, local, remote)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	if err := s.afterSend(ctx, rc, copyRaw, rf); err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	if len(failed) > 0 {
		s.renderMessage(w, r, rc.lang, http.StatusOK, s.cat.T(rc.lang, "compose.partial.title"),
			s.cat.T(rc.lang, "compose.partial.text", strings.Join(failed, ", ")))
		return
	}
	http.Redirect(w, r, "/?n=sent", http.StatusSeeOther)
}

// composeError shows the form again with what was wrong. Uploaded files cannot be put
// back into a file input, so when there are any the message is first saved as a
// draft and the form continues that draft, keeping them.
func (s *Server) composeError(w http.ResponseWriter, r *http.Request, rc *reqCtx, v composeView, om *outMessage, rf *ref, errs []string) {
	ctx := r.Context()
	if om != nil && r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0 {
		// Addresses that did not parse are dropped from the draft's header, not from
		// the form the user sees again.
		om.KeepBcc = true
		if raw, _, err := om.build(""); err == nil && int64(len(raw)) <= s.maxMessageBytes() {
			if uid, err := s.saveDraft(ctx, rc, raw, rf); err == nil {
				if drafts, err := s.mailboxBySpecial(ctx, rc.acct.ID, store.SpecialDrafts); err == nil {
					if nrf, err := s.loadRef(ctx, rc, "draft", strconv.FormatInt(drafts.ID, 10), strconv.FormatUint(uint64(uid), 10)); err == nil {
						v.RefKind, v.RefMB, v.RefUID = "draft", drafts.ID, uid
						v.Carry = carryAll(rc, nrf.v)
						errs = append(errs, s.cat.T(rc.lang, "compose.kept_as_draft"))
					}
				}
			} else {
				s.log.Warn("draft not saved", "account", rc.acct.Address, "err", err)
			}
		}
	}
	p, err := s.composePage(ctx, r, rc, v)
	if err != nil {
		s.serverError(w, r, rc.lang, err)
		return
	}
	p.Errors = errs
	s.render(w, r, http.StatusUnprocessableEntity, "compose", p)
}

// gatherAttachments collects the kept attachments of the referenced message and
// the uploaded files.
func (s *Server) gatherAttachments(r *http.Request, rf *ref, carry []carryView) ([]outAttachment, error) {
	var out []outAttachment
	if rf != nil {
		for _, c := range carry {
			if !c.Keep {
				continue
			}
			p := rf.v.partByPath(c.Path)
			if p == nil {
				continue
			}
			ct := p.MediaType
			if p.Charset != "" {
				// The bytes are the original ones, so the original charset goes with them.
				ct = mime.FormatMediaType(ct, map[string]string{"charset": p.Charset})
			}
			out = append(out, outAttachment{Name: p.Name(), ContentType: ct, Data: p.Body})
		}
	}
	if r.MultipartForm == nil {
		return out, nil
	}
	for _, fh := range r.MultipartForm.File["file"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // the empty file input of a form sent without files
		}
		fl, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("upload: %w", err)
		}
		data, err := io.ReadAll(fl)
		fl.Close()
		if err != nil {
			return nil, fmt.Errorf("upload: %w", err)
		}
		name := cleanFilename(norm.NFC.String(fh.Filename))
		if name == "" {
			name = "tep-dinh-kem"
		}
		ct := fh.Header.Get("Content-Type")
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = mime.TypeByExtension(strings.ToLower(path.Ext(name)))
		}
		out = append(out, outAttachment{Name: name, ContentType: ct, Data: data})
	}
	return out, nil
}

// resolveRecipients splits recipients into local mailboxes and remote addresses; an
// address of our domains without a mailbox is an error the sender must see now.
func (s *Server) resolveRecipients(ctx context.Context, rc *reqCtx, all []*mail.Address) ([]delivery.Recipient, []string, []string) {
	var local []delivery.Recipient
	var remote, errs []string
	seen := map[string]bool{}
	for _, a := range all {
		addr := strings.ToLower(a.Address)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		domain := address.Domain(addr)
		if domain == "" {
			errs = append(errs, s.cat.T(rc.lang, "compose.err.no_mailbox", addr))
			continue
		}
		if !s.isLocalDomain(domain) {
			remote = append(remote, addr)
			continue
		}
		acct, err := s.d.Store.AccountByAddress(ctx, addr)
		if err != nil || acct.State == store.StateRevoked {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.Error("recipient lookup", "rcpt", addr, "err", err)
			}
			errs = append(errs, s.cat.T(rc.lang, "compose.err.no_mailbox", addr))
			continue
		}
		// R8.1: a locked mailbox still receives.
		local = append(local, delivery.Recipient{Address: addr, AccountID: acct.ID})
	}
	return local, remote, errs
}

func (s *Server) isLocalDomain(domain string) bool {
	for _, d := range s.d.Config.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// sendMessage delivers to local mailboxes through the delivery pipeline (trace
// headers, one transaction, a transaction-log row per recipient) and hands remote
// addresses to Outbound. It returns the recipients that could not take the message.
func (s *Server) sendMessage(ctx context.Context, r *http.Request, rc *reqCtx, raw []byte, local []delivery.Recipient, remote []string) ([]string, error) {
	var failed []string
	if len(local) > 0 {
		res, err := s.d.Deliverer.Deliver(ctx, &delivery.Envelope{
			From: s.envelopeFrom(rc), Recipients: local, ClientIP: clientIP(r), ClientHelo: "webmail",
			Proto: "HTTPS", Direction: "internal", AuthUser: s.authUser(rc),
		}, strings.NewReader(string(raw)))
		if err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		for i, o := range res.Outcomes {
			if o.Err != nil {
				reason := s.cat.T(rc.lang, "compose.fail.other")
				if errors.Is(o.Err, store.ErrQuotaExceeded) {
					reason = s.cat.T(rc.lang, "compose.fail.quota")
				}
				failed = append(failed, local[i].Address+" ("+reason+")")
				continue
			}
			s.cache.invalidate(o.MailboxID)
		}
	}
	if len(remote) > 0 && s.d.Outbound != nil {
		if err := s.d.Outbound.Submit(ctx, OutboundMessage{From: s.envelopeFrom(rc), Recipients: remote, AuthUser: s.authUser(rc), ClientIP: clientIP(r), Raw: raw}); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
	}
	s.log.Info("webmail sent", "account", rc.acct.Address, "local", len(local), "remote", len(remote), "failed", len(failed))
	return failed, nil
}

// afterSend keeps the Sent copy, removes the draft it came from and marks the
// message replied to.
func (s *Server) afterSend(ctx context.Context, rc *reqCtx, copyRaw []byte, rf *ref) error {
	owner := rc.acct.ID
	if rc.sendAs != nil {
		owner = rc.sendAs.ID // the unit mailbox keeps what was sent in its name
	}
	sent, err := s.mailboxBySpecial(ctx, owner, store.SpecialSent)
	if err != nil {
		return err
	}
	nm, _ := delivery.Prepare(copyRaw, s.d.Clock.Now())
	if _, err := s.d.Store.Append(ctx, sent.ID, nm, []string{flagSeen}); err != nil {
		if errors.Is(err, store.ErrQuotaExceeded) {
			// The message went out; only the sender's copy did not fit.
			s.log.Warn("sent copy not kept: quota", "account", rc.acct.Address)
			return nil
		}
		return fmt.Errorf("sent copy: %w", err)
	}
	s.cache.invalidate(sent.ID)
	if rf == nil {
		return nil
	}
	switch rf.kind {
	case "draft":
		if _, err := s.d.Store.Expunge(ctx, rf.mb.ID, []uint32{rf.uid}); err != nil {
			return fmt.Errorf("remove draft: %w", err)
		}
		s.cache.invalidate(rf.mb.ID)
	case "reply", "replyall":
		if _, err := s.d.Store.StoreFlags(ctx, rf.mb.ID, []uint32{rf.uid}, store.FlagsAdd, []string{`\Answered`}); err != nil {
			return fmt.Errorf("mark answered: %w", err)
		}
	}
	return nil
}

// saveDraft appends raw to Drafts and removes the draft it replaces.
func (s *Server) saveDraft(ctx context.Context, rc *reqCtx, raw []byte, rf *ref) (uint32, error) {
	drafts, err := s.mailboxBySpecial(ctx, rc.acct.ID, store.SpecialDrafts)
	if err != nil {
		return 0, err
	}
	nm, _ := delivery.Prepare(raw, s.d.Clock.Now())
	uid, err := s.d.Store.Append(ctx, drafts.ID, nm, []string{flagDraft, flagSeen})
	if err != nil {
		return 0, fmt.Errorf("save draft: %w", err)
	}
	if rf != nil && rf.kind == "draft" {
		if _, err := s.d.Store.Expunge(ctx, rf.mb.ID, []uint32{rf.uid}); err != nil {
			return 0, fmt.Errorf("replace draft: %w", err)
		}
		s.cache.invalidate(rf.mb.ID)
	}
	s.cache.invalidate(drafts.ID)
	return uid, nil
}

// fromChoices are the addresses the user may send as: their own, then the unit
// mailboxes they are a delegate of.
func (s *Server) fromChoices(ctx context.Context, rc *reqCtx) []string {
	out := []string{rc.acct.Address}
	for _, u := range s.delegatedUnits(ctx, rc) {
		out = append(out, u.Address)
	}
	return out
}

// envelopeFrom is the reverse path: the mailbox sent as.
func (s *Server) envelopeFrom(rc *reqCtx) string {
	if rc.sendAs != nil {
		return rc.sendAs.Address
	}
	return rc.acct.Address
}

// authUser names who sent, for the transaction log (R9.2).
func (s *Server) authUser(rc *reqCtx) string {
	if rc.sendAs != nil {
		return rc.acct.Address + " (for " + rc.sendAs.Address + ")"
	}
	return rc.acct.Address
}
