package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"govmail/internal/outage"
	"govmail/internal/store"
)

// The operators' pages of issue 9 part 2, over services of their own: outage
// notices (R14.1) and held mail (R4.2, R4.3) here, the working-day calendar
// (C3, C4) in handlers_portal_holidays.go, the periodic report (R7.3) in
// handlers_portal_reports.go. The services record and mail; these handlers
// read forms, ask authz and render.

func (s *Server) opsRoutes(m *http.ServeMux) {
	p := func(h portalHandler) http.HandlerFunc { return s.portalRoute(areaPortal, h) }
	m.HandleFunc("GET /portal/outages", p(s.handleOutages))
	m.HandleFunc("POST /portal/outages", p(s.handleOutagePublish))
	m.HandleFunc("POST /portal/outages/{id}/close", p(s.handleOutageClose))
	m.HandleFunc("GET /portal/held", p(s.handleHeld))
	m.HandleFunc("POST /portal/held/{id}/{uid}/{op}", p(s.handleHeldOp))
	m.HandleFunc("GET /portal/holidays", p(s.handleHolidays))
	m.HandleFunc("POST /portal/holidays", p(s.handleHolidaySet))
	m.HandleFunc("POST /portal/holidays/remove", p(s.handleHolidayRemove))
	m.HandleFunc("GET /portal/reports", p(s.handleReports))
	m.HandleFunc("GET /portal/reports/view", p(s.handleReportView))
	m.HandleFunc("GET /portal/reports/download", p(s.handleReportDownload))
}

// unavailable answers 404 for a page whose service the server was built
// without, and reports whether it did.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, pc *portalCtx, missing bool) bool {
	if missing {
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.unavailable")
	}
	return missing
}

// ---- Outage notices (R14.1) ----

// dateTimeLocal is the value format of an <input type="datetime-local">.
const dateTimeLocal = "2006-01-02T15:04"

// parseLocalTime reads a time of day in the province's zone, as a browser's
// datetime-local field or a person ("2026-03-10 08:30") writes it.
func (s *Server) parseLocalTime(v string) (time.Time, bool) {
	v = strings.Replace(strings.TrimSpace(v), " ", "T", 1)
	for _, layout := range []string{dateTimeLocal, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

type outageRow struct {
	ID                       int64
	What                     string
	Since, Until             string
	Scope                    string
	PublishedBy, PublishedAt string
	ClosedBy, ClosedAt       string
	CloseNote                string
	Recipients               int
	CloseURL                 string
}

type outageForm struct {
	What, Since, Until, Scope string
	Units                     []string
}

// Chosen tells the template whether a unit is ticked.
func (f outageForm) Chosen(lp string) bool { return slices.Contains(f.Units, lp) }

type outageResult struct {
	ID         int64
	Recipients int
	Unreached  []string // names of the units nobody could be told in
}

type outagesView struct {
	Open, Closed []outageRow
	ClosedMore   bool
	Units        []store.Unit
	Form         outageForm
	Result       *outageResult
	// CloseID and CloseNote keep the all-clear note of a close that failed.
	CloseID   int64
	CloseNote string
}

// outageClosedShown bounds the closed notices listed: the audit log keeps them all.
const outageClosedShown = 50

func (s *Server) defaultOutageForm() outageForm {
	return outageForm{Since: s.d.Clock.Now().In(s.loc).Format(dateTimeLocal), Scope: "all"}
}

func (s *Server) handleOutages(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Outage == nil) || !s.check(w, r, pc, pc.v.ManageOutages()) {
		return
	}
	s.renderOutages(w, r, pc, http.StatusOK, outagesView{Form: s.defaultOutageForm()}, "")
}

func (s *Server) renderOutages(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, ov outagesView, errText string) {
	ns, err := s.d.Outage.List(r.Context())
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	p := s.portalPage(r, pc, areaPortal, "portal.outages.title", "/portal/outages", nil)
	for _, n := range ns {
		row := outageRow{ID: n.ID, What: n.What, Since: s.fmtTime(pc.lang, n.Since), Until: s.fmtTime(pc.lang, n.Until),
			Scope: p.T("portal.outages.scope_all"), PublishedBy: n.PublishedBy, PublishedAt: s.fmtTime(pc.lang, n.PublishedAt),
			Recipients: len(n.Recipients), CloseURL: "/portal/outages/" + strconv.FormatInt(n.ID, 10) + "/close"}
		if len(n.UnitNames) > 0 {
			row.Scope = strings.Join(n.UnitNames, ", ")
		}
		if n.ClosedAt.IsZero() {
			ov.Open = append(ov.Open, row)
			continue
		}
		if len(ov.Closed) == outageClosedShown {
			ov.ClosedMore = true
			continue
		}
		row.ClosedBy, row.ClosedAt, row.CloseNote = n.ClosedBy, s.fmtTime(pc.lang, n.ClosedAt), n.CloseNote
		ov.Closed = append(ov.Closed, row)
	}
	ov.Units = s.sortedUnits(pc.v)
	p.Error = errText
	p.Body = ov
	s.render(w, r, status, "portal_outages", p)
}

// handleOutagePublish publishes a notice: what, since when, the expected
// restoration, all units or those chosen (with their sub-units). outage mails
// it to the units' mailboxes and audits it; the page says who could not be told.
func (s *Server) handleOutagePublish(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Outage == nil) || !s.check(w, r, pc, pc.v.ManageOutages()) {
		return
	}
	f := outageForm{What: strings.TrimSpace(r.PostFormValue("what")), Since: strings.TrimSpace(r.PostFormValue("since")),
		Until: strings.TrimSpace(r.PostFormValue("until")), Scope: r.PostFormValue("scope")}
	in := outage.PublishInput{What: f.What, Actor: pc.acct.Address}
	var bad []string
	if f.Since != "" {
		t, ok := s.parseLocalTime(f.Since)
		if !ok {
			bad = append(bad, s.cat.T(pc.lang, "portal.outages.err.since"))
		}
		in.Since = t
	}
	if f.Until != "" {
		t, ok := s.parseLocalTime(f.Until)
		if !ok {
			bad = append(bad, s.cat.T(pc.lang, "portal.outages.err.until"))
		}
		in.Until = t
	}
	if f.Scope == "units" {
		for _, lp := range r.PostForm["unit"] {
			if lp = strings.TrimSpace(lp); lp != "" && !slices.Contains(f.Units, lp) {
				f.Units = append(f.Units, lp)
			}
		}
		if len(f.Units) == 0 {
			bad = append(bad, s.cat.T(pc.lang, "portal.outages.err.units"))
		}
		in.Units = f.Units
	} else {
		f.Scope = "all"
	}
	if len(bad) > 0 {
		s.renderOutages(w, r, pc, http.StatusUnprocessableEntity, outagesView{Form: f}, strings.Join(bad, " "))
		return
	}
	res, err := s.d.Outage.Publish(r.Context(), in)
	if res == nil {
		if text, ok := refusal(pc.lang, err); ok {
			s.renderOutages(w, r, pc, http.StatusUnprocessableEntity, outagesView{Form: f}, text)
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	// The notice is recorded; an error now means it was not mailed. The banner
	// shows it anyway, and the operator is told.
	errText := ""
	if err != nil {
		s.log.Error("outage notice not mailed", "id", res.Notice.ID, "err", err)
		errText = s.cat.T(pc.lang, "portal.outages.err.not_mailed")
	}
	names := map[string]string{}
	for _, u := range s.sortedUnits(pc.v) {
		names[u.LocalPart] = u.Name
	}
	result := &outageResult{ID: res.Notice.ID, Recipients: len(res.Recipients)}
	for _, lp := range res.Unreached {
		result.Unreached = append(result.Unreached, cmp.Or(names[lp], lp))
	}
	slices.Sort(result.Unreached)
	// Rendered, not redirected: the units nobody could be told in are shown once.
	s.renderOutages(w, r, pc, http.StatusOK, outagesView{Form: s.defaultOutageForm(), Result: result}, errText)
}

// handleOutageClose closes an open notice with its all-clear note; outage
// mails the all-clear to the mailboxes the notice went to and audits it.
func (s *Server) handleOutageClose(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Outage == nil) || !s.check(w, r, pc, pc.v.ManageOutages()) {
		return
	}
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	res, err := s.d.Outage.Close(r.Context(), id, pc.acct.Address, note)
	if res == nil {
		if errors.Is(err, outage.ErrNotOpen) {
			s.renderOutages(w, r, pc, http.StatusUnprocessableEntity, outagesView{Form: s.defaultOutageForm(), CloseID: id, CloseNote: note},
				s.cat.T(pc.lang, "portal.outages.err.not_open", id))
			return
		}
		s.serverError(w, r, pc.lang, err)
		return
	}
	if err != nil {
		s.log.Error("outage all-clear not mailed", "id", id, "err", err)
		s.renderOutages(w, r, pc, http.StatusOK, outagesView{Form: s.defaultOutageForm()}, s.cat.T(pc.lang, "portal.outages.err.not_mailed"))
		return
	}
	seeOther(w, r, "/portal/outages", "outage_closed")
}

// ---- Held mail (R4.2, R4.3) ----

type heldRow struct {
	AccountID  int64
	Address    string
	AccountURL string
	UID        uint32
	Date       string
	From       string
	Subject    string
	Size       string
	Action     string // /portal/held/{account}/{uid}/; release or drop follows
}

type heldView struct {
	Rows  []heldRow
	More  bool
	Limit int
}

// heldListMax bounds the page: held mail is released or deleted, not kept.
const heldListMax = 500

func (s *Server) handleHeld(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Held == nil) {
		return
	}
	// The list shows senders and subjects of other people's mail, which only
	// operators may read, like the transaction log (R11.3).
	if !s.check(w, r, pc, pc.v.ReadLog()) {
		return
	}
	s.renderHeld(w, r, pc, http.StatusOK, "")
}

func (s *Server) renderHeld(w http.ResponseWriter, r *http.Request, pc *portalCtx, status int, errText string) {
	items, err := s.d.Held.List(r.Context(), heldListMax+1)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	hv := heldView{Limit: heldListMax}
	if len(items) > heldListMax {
		items, hv.More = items[:heldListMax], true
	}
	p := s.portalPage(r, pc, areaPortal, "portal.held.title", "/portal/held", nil)
	for _, it := range items {
		id := strconv.FormatInt(it.AccountID, 10)
		row := heldRow{AccountID: it.AccountID, Address: it.Address, AccountURL: "/portal/accounts/" + id, UID: it.UID,
			Date: s.fmtTime(pc.lang, it.InternalDate), From: it.From, Subject: it.Subject, Size: humanSize(pc.lang, it.Size),
			Action: "/portal/held/" + id + "/" + strconv.FormatUint(uint64(it.UID), 10) + "/"}
		if row.Subject == "" {
			row.Subject = p.T("list.no_subject")
		}
		hv.Rows = append(hv.Rows, row)
	}
	p.Error = errText
	p.Body = hv
	s.render(w, r, status, "portal_held", p)
}

// handleHeldOp releases a held message into its owner's INBOX or deletes it for
// good; held audits both.
func (s *Server) handleHeldOp(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if s.unavailable(w, r, pc, s.d.Held == nil) {
		return
	}
	// Moving or deleting mail in someone's mailbox is an operator's change of
	// that account (Điều 7.2).
	if !s.check(w, r, pc, pc.v.ChangeAccount()) {
		return
	}
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	uid, ok := parseUID(r.PathValue("uid"))
	if !ok {
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.not_found")
		return
	}
	a, err := s.d.Store.AccountByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	var notice string
	switch r.PathValue("op") {
	case "release":
		err, notice = s.d.Held.Release(ctx, a.Address, uid, pc.acct.Address), "held_released"
	case "drop":
		err, notice = s.d.Held.Drop(ctx, a.Address, uid, pc.acct.Address), "held_dropped"
	default:
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.not_found")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		// Another operator was first, or the page was old.
		s.renderHeld(w, r, pc, http.StatusNotFound, s.cat.T(pc.lang, "portal.held.err.gone"))
		return
	}
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	seeOther(w, r, "/portal/held", notice)
}
