package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"govmail/internal/address"
	"govmail/internal/auth"
	"govmail/internal/authz"
	"govmail/internal/directory"
	"govmail/internal/lifecycle"
	"govmail/internal/outage"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
	"govmail/internal/workdays"
)

// The operators' portal (/portal) and the unit managers' pages (/unit) are web
// pages over the directory and lifecycle services. Who may see and do what is
// asked of internal/authz, the rules the REST API asks too; these handlers only
// read forms, call the services and render.

// area is a group of pages with its own menu and entry gate.
type area int

const (
	areaPortal area = iota // operators (Sở KHCN)
	areaUnit               // unit managers and security contacts (and operators)
)

// portalCtx is what a portal or unit page handler gets.
type portalCtx struct {
	*reqCtx
	v *authz.View
}

type portalHandler func(w http.ResponseWriter, r *http.Request, pc *portalCtx)

// navLink is one entry of a section menu.
type navLink struct {
	Href    string
	Label   string
	Current bool
	Count   int // shown as a badge when > 0
}

// portalRoute wraps h: the session rules of authed first (second factor,
// forced password change, origin and CSRF of every POST), then the area's gate,
// so that no handler runs for someone who could use it on no object at all.
// Each handler still asks authz about the object it touches.
func (s *Server) portalRoute(a area, h portalHandler) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if s.d.Dir == nil || s.d.Life == nil {
			s.renderError(w, r, rc.lang, http.StatusNotFound, "portal.unavailable")
			return
		}
		v, err := authz.Load(r.Context(), s.d.Store, rc.acct)
		if err != nil {
			s.serverError(w, r, rc.lang, err)
			return
		}
		pc := &portalCtx{reqCtx: rc, v: v}
		ok := v.Operator()
		if a == areaUnit {
			ok = v.UnitStaff()
		}
		if !ok {
			s.forbidden(w, r, pc)
			return
		}
		h(w, r, pc)
	})
}

// forbidden answers a refusal of authz. Who tried what is security-relevant
// (R11.2), so it is logged.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	s.log.Info("portal access denied", "who", pc.acct.Address, "method", r.Method, "path", r.URL.Path, "ip", clientIP(r))
	s.renderError(w, r, pc.lang, http.StatusForbidden, "portal.forbidden")
}

// check answers 403 and returns false when err is a refusal of authz.
func (s *Server) check(w http.ResponseWriter, r *http.Request, pc *portalCtx, err error) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, authz.ErrForbidden) {
		s.forbidden(w, r, pc)
	} else {
		s.serverError(w, r, pc.lang, err)
	}
	return false
}

// portalPage fills what every portal or unit page needs.
func (s *Server) portalPage(r *http.Request, pc *portalCtx, a area, titleKey, current string, unit *store.Unit) *pageData {
	p := &pageData{s: s, Lang: pc.lang, Path: r.URL.RequestURI(), Account: pc.acct, CSRF: pc.sess.CSRF, Support: s.d.Support, ExtraCSS: true}
	p.Title = p.T(titleKey)
	p.Notice = s.noticeText(r, pc.lang)
	if a == areaPortal {
		p.AreaTitle, p.Home = p.T("portal.area"), "/portal"
		for _, l := range []struct {
			href, key string
			on        bool
		}{
			{"/portal", "portal.nav.dashboard", true}, {"/portal/units", "portal.nav.units", true}, {"/portal/accounts", "portal.nav.accounts", true},
			{"/portal/requests", "portal.nav.requests", true}, {"/portal/held", "portal.nav.held", s.d.Held != nil},
			{"/portal/outages", "portal.nav.outages", s.d.Outage != nil}, {"/portal/reports", "portal.nav.reports", s.d.Reports != nil},
			{"/portal/holidays", "portal.nav.holidays", s.d.Calendar != nil}, {"/portal/authreports", "portal.nav.authreports", true},
			{"/portal/log", "portal.nav.log", true}, {"/portal/audit", "portal.nav.audit", true},
		} {
			if l.on {
				p.Nav = append(p.Nav, navLink{Href: l.href, Label: p.T(l.key), Current: l.href == current})
			}
		}
		return p
	}
	p.AreaTitle, p.Home = p.T("unit.area"), "/unit"
	roots := pc.v.Roots()
	if pc.v.Operator() {
		// Operators reach every unit from the portal; here they see the one open.
		roots = nil
	}
	for _, u := range roots {
		href := "/unit/" + strconv.FormatInt(u.ID, 10)
		p.Nav = append(p.Nav, navLink{Href: href, Label: u.Name, Current: href == current})
	}
	if unit != nil {
		base := "/unit/" + strconv.FormatInt(unit.ID, 10)
		if len(roots) != 1 || roots[0].ID != unit.ID {
			p.Nav = append(p.Nav, navLink{Href: base, Label: unit.Name, Current: base == current})
		}
		p.Nav = append(p.Nav, navLink{Href: base + "/requests", Label: p.T("unit.nav.requests"), Current: base+"/requests" == current})
		if pc.v.ManageUnit(unit.ID) == nil {
			p.Nav = append(p.Nav, navLink{Href: base + "/requests/new", Label: p.T("unit.nav.new_request"), Current: base+"/requests/new" == current})
		}
	}
	return p
}

// refusal returns the text of a refusal by a domain service in the page's
// language, and false when err is no refusal but a failure.
func refusal(lang i18n.Lang, err error) (string, bool) {
	var de *directory.Error
	var le *lifecycle.Error
	var ae *address.Error
	var ue *auth.Error
	var pe *password.Error
	var oe *outage.Error
	switch {
	case errors.As(err, &oe):
		return i18n.Pick(lang, oe.VI, oe.EN), true
	case errors.As(err, &le):
		return i18n.Pick(lang, le.VI, le.EN), true
	case errors.As(err, &de):
		return i18n.Pick(lang, de.VI, de.EN), true
	case errors.As(err, &ae):
		return i18n.Pick(lang, ae.VI, ae.EN), true
	case errors.As(err, &ue):
		return i18n.Pick(lang, ue.VI, ue.EN), true
	case errors.As(err, &pe):
		var parts []string
		for _, v := range pe.Violations {
			parts = append(parts, i18n.Pick(lang, v.VI, v.EN))
		}
		return strings.Join(parts, " "), true
	}
	return "", false
}

// audit records an operator's or unit manager's action (R11.2). An action that
// cannot be recorded is not done: the caller stops on the error.
func (s *Server) audit(ctx context.Context, actor, action, target, detail string) error {
	if err := s.d.Store.AppendAudit(ctx, store.AuditEntry{Time: s.d.Clock.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// today is the province's calendar date now.
func (s *Server) today() workdays.Date { return workdays.DateOf(s.d.Clock.Now(), s.loc) }

// fmtTime writes an instant for tables: 10/03/2026 09:00 or 10 Mar 2026 09:00.
func (s *Server) fmtTime(lang i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(s.loc)
	if lang == i18n.EN {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("02/01/2006 15:04")
}

// fmtDate writes a local date (YYYY-MM-DD) the page's way.
func fmtDate(lang i18n.Lang, iso string) string {
	if iso == "" {
		return "—"
	}
	d, err := workdays.Parse(iso)
	if err != nil {
		return iso
	}
	if lang == i18n.EN {
		return d.In(time.UTC).Format("2 Jan 2006")
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day(), int(d.Month()), d.Year())
}

// stateLabel names an account state with its lock reason.
func (s *Server) stateLabel(lang i18n.Lang, state store.AccountState) string {
	return s.cat.T(lang, "state."+string(state))
}

func (s *Server) reasonLabel(lang i18n.Lang, reason string) string {
	if reason == "" {
		return ""
	}
	if s.cat.Has("lockreason." + reason) {
		return s.cat.T(lang, "lockreason."+reason)
	}
	return reason
}

func (s *Server) kindLabel(lang i18n.Lang, kind string) string {
	if s.cat.Has("reqkind." + kind) {
		return s.cat.T(lang, "reqkind."+kind)
	}
	return kind
}

func (s *Server) reqStateLabel(lang i18n.Lang, state string) string {
	if s.cat.Has("reqstate." + state) {
		return s.cat.T(lang, "reqstate."+state)
	}
	return state
}

// overdue applies R8.5: a restore request still waiting after the end of its
// deadline day (Asia/Ho_Chi_Minh).
func overdue(r *store.Request, today workdays.Date) bool {
	return r.State == store.RequestReceived && r.Deadline != "" && r.Deadline < today.String()
}

// dueToday: a restore request still waiting on its deadline day.
func dueToday(r *store.Request, today workdays.Date) bool {
	return r.State == store.RequestReceived && r.Deadline == today.String()
}

// requestRow is one request in a list.
type requestRow struct {
	ID        int64
	Kind      string
	KindLabel string
	Unit      string
	UnitID    int64
	DocNumber string
	DocDate   string
	Received  string
	Deadline  string
	State     string
	StateText string
	Overdue   bool
	DueToday  bool
	URL       string
}

func (s *Server) requestRow(lang i18n.Lang, r *store.Request, v *authz.View, today workdays.Date, urlBase string) requestRow {
	unit := ""
	if u, ok := v.Unit(r.UnitID); ok {
		unit = u.Name
	}
	return requestRow{ID: r.ID, Kind: r.Kind, KindLabel: s.kindLabel(lang, r.Kind), Unit: unit, UnitID: r.UnitID, DocNumber: r.DocNumber,
		DocDate: fmtDate(lang, r.DocDate), Received: s.fmtTime(lang, r.ReceivedAt), Deadline: fmtDate(lang, r.Deadline),
		State: r.State, StateText: s.reqStateLabel(lang, r.State), Overdue: overdue(r, today), DueToday: dueToday(r, today),
		URL: urlBase + strconv.FormatInt(r.ID, 10)}
}

// personRow is one account in a table of the portal or a unit page (R16.1).
type personRow struct {
	ID          int64
	Address     string
	Name        string
	Unit        string
	UnitMailbox bool
	State       string
	StateText   string
	LockReason  string
	LockNote    string
	LastLogin   string
	PasswordAge int // days
	QuotaUse    string
	QuotaPct    int
	Absences    []string
	URL         string
}

func (s *Server) personRow(lang i18n.Lang, a *store.Account, v *authz.View) personRow {
	pr := personRow{ID: a.ID, Address: a.Address, Name: a.DisplayName, UnitMailbox: a.Kind == store.KindUnit,
		State: string(a.State), StateText: s.stateLabel(lang, a.State), LockReason: s.reasonLabel(lang, a.LockReason),
		LastLogin: s.fmtTime(lang, a.LastLoginAt), URL: "/portal/accounts/" + strconv.FormatInt(a.ID, 10)}
	if a.State == store.StateLocked && pr.LockReason == "" {
		pr.LockReason = "—"
	}
	if u, ok := v.Unit(a.UnitID); ok {
		pr.Unit = u.Name
	}
	if !a.PasswordSetAt.IsZero() {
		pr.PasswordAge = s.today().Sub(workdays.DateOf(a.PasswordSetAt, s.loc))
	}
	if a.QuotaBytes > 0 {
		pr.QuotaPct = int(a.UsedBytes * 100 / a.QuotaBytes)
		pr.QuotaUse = s.cat.T(lang, "portal.quota_use", humanSize(lang, a.UsedBytes), humanSize(lang, a.QuotaBytes), pr.QuotaPct)
	} else {
		pr.QuotaUse = humanSize(lang, a.UsedBytes)
	}
	return pr
}

// pathID reads a positive id path value, answering 404 when it is none.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request, lang i18n.Lang, name string) (int64, bool) {
	id, ok := parseID(r.PathValue(name))
	if !ok {
		s.renderError(w, r, lang, http.StatusNotFound, "portal.not_found")
	}
	return id, ok
}

// portalNotFoundOr answers 404 for store.ErrNotFound and 500 for anything else.
func (s *Server) portalNotFoundOr(w http.ResponseWriter, r *http.Request, lang i18n.Lang, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, lang, http.StatusNotFound, "portal.not_found")
		return
	}
	s.serverError(w, r, lang, err)
}

// seeOther redirects after a successful POST, with a notice key for the next page.
// The key goes into the query, before any #fragment: after it the browser would
// keep it to itself and the page would never show the notice.
func seeOther(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		base, frag, hasFrag := strings.Cut(path, "#")
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		path = base + sep + "n=" + notice
		if hasFrag {
			path += "#" + frag
		}
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// parseMB reads a size in megabytes as bytes, within (0, 1 TiB].
func parseMB(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, false
	}
	return n << 20, true
}
