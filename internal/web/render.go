package web

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"govmail/internal/store"
	"govmail/internal/web/i18n"
)

// pages lists every page template.
func pages() []string {
	return []string{"login", "password", "totp", "locked", "error", "list", "read", "compose", "search", "settings",
		"portal_dashboard", "portal_units", "portal_unit", "portal_accounts", "portal_account_new", "portal_account",
		"portal_requests", "portal_request", "portal_log", "portal_audit", "portal_secret",
		"portal_outages", "portal_held", "portal_holidays", "portal_reports", "portal_authreports",
		"unit_home", "unit_list", "unit_requests", "unit_request_new"}
}

// layoutOf says which layout a page uses: "app" has the folder list, search and
// quota bar; "plain" is the centred card of the login, password and error pages.
func layoutOf(page string) string {
	switch page {
	case "list", "read", "compose", "search", "settings":
		return "app"
	}
	// The operators' portal and the unit managers' pages share one layout: the
	// webmail's top bar with a section menu instead of the folders.
	if strings.HasPrefix(page, "portal_") || strings.HasPrefix(page, "unit_") {
		return "portal"
	}
	return "plain"
}

func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	funcs := template.FuncMap{
		// The real T needs the request's language; pageData.T is what templates call.
		"add": func(a, b int) int { return a + b },
		// dict hands a shared part both the page (for T) and its own data.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	for _, name := range pages() {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// folderView is one entry of the folder list.
type folderView struct {
	ID      int64
	Name    string
	Special string
	Unread  uint32
	Total   uint32
	Current bool
}

// pageData is what every template gets.
type pageData struct {
	s       *Server
	Lang    i18n.Lang
	Title   string
	Path    string
	Account *store.Account
	CSRF    string
	Folders []folderView
	Current int64
	Query   string
	Notice  string
	Error   string
	Errors  []string
	Support string
	Banners []string // outage notices (R14.1)
	Body    any

	// Portal and unit pages: the section menu, the area's name and home.
	Nav       []navLink
	AreaTitle string
	Home      string
	// ExtraCSS loads portal.css: the portal, unit and settings pages.
	ExtraCSS bool
}

// T translates key into the page's language.
func (p *pageData) T(key string, args ...any) string { return p.s.cat.T(p.Lang, key, args...) }

// Static is the versioned URL of an embedded asset.
func (p *pageData) Static(name string) string { return "/static/" + name + "?v=" + p.s.staticVer }

// OtherLang is the language the switch link offers.
func (p *pageData) OtherLang() string {
	if p.Lang == i18n.EN {
		return string(i18n.VI)
	}
	return string(i18n.EN)
}

// LangURL is the link that switches language and comes back to this page.
func (p *pageData) LangURL() string {
	return "/lang/" + p.OtherLang() + "?next=" + url.QueryEscape(p.Path)
}

// SupportEmail is the address inside the support contact, for a mailto link.
func (p *pageData) SupportEmail() string {
	for _, f := range strings.Fields(p.Support) {
		if strings.Contains(f, "@") {
			return strings.Trim(f, "<>(),;")
		}
	}
	return ""
}

// SupportName is the contact without its address.
func (p *pageData) SupportName() string {
	e := p.SupportEmail()
	if e == "" {
		return p.Support
	}
	n := strings.TrimSpace(strings.Replace(p.Support, e, "", 1))
	return strings.TrimSpace(strings.TrimRight(n, "—-–:<>() "))
}

// Quota describes the quota bar (R11.4).
func (p *pageData) Quota() map[string]any {
	if p.Account == nil || p.Account.QuotaBytes <= 0 {
		return nil
	}
	pct := float64(p.Account.UsedBytes) * 100 / float64(p.Account.QuotaBytes)
	level := "ok"
	switch {
	case pct >= 90:
		level = "high"
	case pct >= 80:
		level = "warn"
	}
	w := int(pct + 0.5)
	if w > 100 {
		w = 100
	}
	return map[string]any{
		"Used":    humanSize(p.Lang, p.Account.UsedBytes),
		"Total":   humanSize(p.Lang, p.Account.QuotaBytes),
		"Percent": w,
		"Level":   level,
		// The width goes through a class, not a style attribute: the page CSP allows
		// no inline style. Bars are drawn in steps of 5 %.
		"Step": (w + 2) / 5 * 5,
	}
}

// humanSize writes bytes as Vietnamese (decimal comma) or English numbers.
func humanSize(lang i18n.Lang, n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	f := float64(n)
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	var s string
	if u == 0 || f >= 100 {
		s = fmt.Sprintf("%.0f", f)
	} else {
		s = fmt.Sprintf("%.1f", f)
		s = strings.TrimSuffix(s, ".0")
	}
	if lang == i18n.VI {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + units[u]
}

// newPage fills what every page needs; for app pages it also loads the folders.
func (s *Server) newPage(ctx context.Context, r *http.Request, rc *reqCtx, title string, current int64) (*pageData, error) {
	p := &pageData{s: s, Lang: rc.lang, Title: title, Path: r.URL.RequestURI(), Support: s.d.Support, Current: current}
	if rc.acct != nil {
		p.Account = rc.acct
	}
	if rc.sess != nil {
		p.CSRF = rc.sess.CSRF
	}
	p.Notice = s.noticeText(r, rc.lang)
	if rc.acct != nil {
		fs, err := s.folders(ctx, rc, current)
		if err != nil {
			return nil, err
		}
		p.Folders = fs
	}
	if s.d.Notices != nil {
		ns, err := s.d.Notices(ctx)
		if err != nil {
			// A banner is not worth failing the page for.
			s.log.Warn("outage notices", "err", err)
		}
		for _, n := range ns {
			p.Banners = append(p.Banners, i18n.Pick(rc.lang, n.VI, n.EN))
		}
	}
	return p, nil
}

// folderRank puts the default folders first, in the order people expect.
func folderRank(special string) int {
	switch special {
	case "INBOX":
		return 0
	case store.SpecialDrafts:
		return 1
	case store.SpecialSent:
		return 2
	case store.SpecialArchive:
		return 3
	case store.SpecialJunk:
		return 4
	case store.SpecialTrash:
		return 5
	}
	return 10
}

func (s *Server) folderName(lang i18n.Lang, mb *store.Mailbox) string {
	if strings.EqualFold(mb.Name, "INBOX") {
		return s.cat.T(lang, "folder.inbox")
	}
	switch mb.SpecialUse {
	case store.SpecialSent:
		return s.cat.T(lang, "folder.sent")
	case store.SpecialDrafts:
		return s.cat.T(lang, "folder.drafts")
	case store.SpecialTrash:
		return s.cat.T(lang, "folder.trash")
	case store.SpecialJunk:
		return s.cat.T(lang, "folder.junk")
	case store.SpecialArchive:
		return s.cat.T(lang, "folder.archive")
	}
	return mb.Name
}

func (s *Server) folders(ctx context.Context, rc *reqCtx, current int64) ([]folderView, error) {
	mbs, err := s.ownMailboxes(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	out := make([]folderView, 0, len(mbs))
	for i := range mbs {
		mb := &mbs[i]
		st, err := s.cache.Status(ctx, s.d.Store, mb.ID)
		if err != nil {
			return nil, fmt.Errorf("folders: %w", err)
		}
		fv := folderView{ID: mb.ID, Name: s.folderName(rc.lang, mb), Special: mb.SpecialUse, Unread: st.Unseen, Total: st.Messages, Current: mb.ID == current}
		if strings.EqualFold(mb.Name, "INBOX") {
			fv.Special = "INBOX"
		}
		out = append(out, fv)
	}
	// Stable: the store's name order stays within a rank.
	slices.SortStableFunc(out, func(a, b folderView) int { return cmp.Compare(folderRank(a.Special), folderRank(b.Special)) })
	// The unit mailboxes the user manages follow their own folders (R9.1).
	for _, u := range s.delegatedUnits(ctx, rc) {
		ums, err := s.d.Store.ListMailboxes(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("folders: %w", err)
		}
		var unit []folderView
		for i := range ums {
			mb := &ums[i]
			if strings.HasPrefix(mb.Name, "#") {
				continue
			}
			st, err := s.cache.Status(ctx, s.d.Store, mb.ID)
			if err != nil {
				return nil, fmt.Errorf("folders: %w", err)
			}
			fv := folderView{ID: mb.ID, Name: u.Address + " › " + s.folderName(rc.lang, mb), Unread: st.Unseen, Total: st.Messages, Current: mb.ID == current}
			unit = append(unit, fv)
		}
		out = append(out, unit...)
	}
	return out, nil
}

// render executes a page into a buffer first, so a template error becomes a clean
// 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *pageData) {
	t := s.pages[name]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layoutOf(name), p); err != nil {
		s.log.Error("template", "page", name, "err", err)
		http.Error(w, "Lỗi hệ thống / Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows a plain page with one catalog message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, key string, args ...any) {
	s.renderMessage(w, r, lang, status, s.cat.T(lang, "error.title"), s.cat.T(lang, key, args...))
}

// renderMessage shows the plain error page with a title and a text already in
// lang, for outcomes that are not "an error occurred" (a held or partly
// delivered message) or whose text another package wrote.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, title, text string) {
	p := &pageData{s: s, Lang: lang, Path: r.URL.RequestURI(), Support: s.d.Support, Title: title, Error: text}
	s.render(w, r, status, "error", p)
}

// noticeText is the text of the page's ?n= notice, "" when there is none or it
// is not in the catalog (the key comes from the URL).
func (s *Server) noticeText(r *http.Request, lang i18n.Lang) string {
	if n := r.URL.Query().Get("n"); n != "" && s.cat.Has("notice."+n) {
		return s.cat.T(lang, "notice."+n)
	}
	return ""
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, lang i18n.Lang, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.renderError(w, r, lang, http.StatusInternalServerError, "error.internal")
}

func (s *Server) renderTooLarge(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	// The connection is closed after this reply: the rest of the upload is not read.
	w.Header().Set("Connection", "close")
	s.renderError(w, r, rc.lang, http.StatusRequestEntityTooLarge, "error.too_large", humanSize(rc.lang, s.maxMessageBytes()))
}

func (s *Server) maxMessageBytes() int64 {
	if n := s.d.Config.SMTP.MaxMessageBytes; n > 0 {
		return n
	}
	return 26214400
}

// renderLocked is the page of R8.1: the mailbox is locked, why, and whom to ask.
func (s *Server) renderLocked(w http.ResponseWriter, r *http.Request, lang i18n.Lang, authText, reason string, revoked bool) {
	p := &pageData{s: s, Lang: lang, Path: r.URL.RequestURI(), Support: s.d.Support}
	p.Title = p.T("locked.title")
	if revoked {
		p.Title = p.T("revoked.title")
		authText = p.T("revoked.text")
	}
	if authText == "" {
		authText = p.T("locked.text")
	}
	reasonText := ""
	if reason != "" && !revoked {
		if s.cat.Has("locked.reason." + reason) {
			reasonText = p.T("locked.reason." + reason)
		} else {
			reasonText = reason
		}
	}
	p.Body = map[string]string{"Text": authText, "Reason": reasonText}
	s.render(w, r, http.StatusForbidden, "locked", p)
}

// formatListDate is the short date of a message list: the time today, day and month
// this year, the full date before.
func (s *Server) formatListDate(lang i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	now := s.d.Clock.Now().In(s.loc)
	t = t.In(s.loc)
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		if lang == i18n.EN {
			return t.Format("2 Jan")
		}
		return t.Format("02/01")
	}
	if lang == i18n.EN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}

// formatFullDate is the date of the read view.
func (s *Server) formatFullDate(lang i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(s.loc)
	if lang == i18n.EN {
		return t.Format("Mon, 2 Jan 2006 15:04")
	}
	weekdays := []string{"Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"}
	return fmt.Sprintf("%s, %s", weekdays[t.Weekday()], t.Format("02/01/2006 15:04"))
}
