package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"govmail/internal/lifecycle"
	"govmail/internal/maillog"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
	"govmail/internal/workdays"
)

// ---- Requests (R7.1, R7.5, R8.5) ----

type requestsView struct {
	State, Kind string
	States      []string
	Kinds       []string
	Rows        []requestRow
	Overdue     int
	UnitURL     string // unit pages: where the filter form goes
	NewURL      string
}

func requestStates() []string {
	return []string{store.RequestReceived, store.RequestDone, store.RequestRejected}
}

func requestKinds() []string {
	return []string{store.RequestCreate, store.RequestModify, store.RequestRevoke, store.RequestRestore}
}

// listRequests lists the requests of units (nil: every unit) in state and kind,
// waiting ones in the order they are to be handled, others newest first.
func (s *Server) listRequests(r *http.Request, pc *portalCtx, units []int64, state, kind, urlBase string) ([]requestRow, int, error) {
	ctx := r.Context()
	var reqs []store.Request
	if units == nil {
		all, err := s.d.Store.ListRequests(ctx, store.RequestFilter{State: state, Kind: kind})
		if err != nil {
			return nil, 0, err
		}
		reqs = all
	} else {
		for _, id := range units {
			part, err := s.d.Store.ListRequests(ctx, store.RequestFilter{UnitID: id, State: state, Kind: kind})
			if err != nil {
				return nil, 0, err
			}
			reqs = append(reqs, part...)
		}
	}
	if state == store.RequestReceived {
		sortQueue(reqs)
	} else {
		slices.SortFunc(reqs, func(a, b store.Request) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
	}
	today := s.today()
	rows := make([]requestRow, 0, len(reqs))
	n := 0
	for i := range reqs {
		row := s.requestRow(pc.lang, &reqs[i], pc.v, today, urlBase)
		if row.Overdue {
			n++
		}
		rows = append(rows, row)
	}
	return rows, n, nil
}

func (s *Server) handleRequests(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	q := r.URL.Query()
	rv := requestsView{State: q.Get("state"), Kind: q.Get("kind"), States: requestStates(), Kinds: requestKinds()}
	if _, ok := r.URL.Query()["state"]; !ok {
		rv.State = store.RequestReceived // the queue: what is waiting
	}
	if rv.State != "" && !slices.Contains(rv.States, rv.State) {
		rv.State = store.RequestReceived
	}
	if !slices.Contains(rv.Kinds, rv.Kind) {
		rv.Kind = ""
	}
	rows, n, err := s.listRequests(r, pc, nil, rv.State, rv.Kind, "/portal/requests/")
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	rv.Rows, rv.Overdue = rows, n
	p := s.portalPage(r, pc, areaPortal, "portal.requests.title", "/portal/requests", nil)
	p.Body = rv
	s.render(w, r, http.StatusOK, "portal_requests", p)
}

type requestView struct {
	Row       requestRow
	FiledBy   string
	HandledBy string
	HandledAt string
	Reason    string
	People    []string
	Targets   []personRow
	Modify    []string
	Events    []auditRow
	CanHandle bool
	Action    string // where carry and reject post to
	Back      string
	Lines     []string
	Secrets   []countSecret
	Rejection string
}

// requestView loads request id for a page, or answers 404 or 403 itself.
func (s *Server) requestView(w http.ResponseWriter, r *http.Request, pc *portalCtx, id int64, urlBase string) (*requestView, bool) {
	ctx := r.Context()
	req, err := s.d.Store.RequestByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return nil, false
	}
	if !s.check(w, r, pc, pc.v.ReadRequest(req)) {
		return nil, false
	}
	rv := &requestView{Row: s.requestRow(pc.lang, req, pc.v, s.today(), urlBase), FiledBy: req.FiledBy, HandledBy: req.HandledBy,
		Reason: req.Reason, CanHandle: pc.v.HandleRequest() == nil && req.State == store.RequestReceived,
		Action: "/portal/requests/" + strconv.FormatInt(req.ID, 10)}
	if !req.HandledAt.IsZero() {
		rv.HandledAt = s.fmtTime(pc.lang, req.HandledAt)
	}
	var in lifecycle.RequestInput
	if err := json.Unmarshal([]byte(req.Payload), &in); err == nil {
		for _, p := range in.People {
			line := p.FullName
			if p.BirthYear != 0 {
				line += fmt.Sprintf(" (%d)", p.BirthYear)
			}
			if p.UnitLP != "" {
				line += " — " + p.UnitLP
			}
			rv.People = append(rv.People, line)
		}
		if m := in.Modify; m != nil {
			if m.NewName != "" {
				rv.Modify = append(rv.Modify, s.cat.T(pc.lang, "portal.request.modify_name", m.NewName))
			}
			if m.NewUnitLP != "" {
				rv.Modify = append(rv.Modify, s.cat.T(pc.lang, "portal.request.modify_unit", m.NewUnitLP))
			}
			if m.QuotaBytes > 0 {
				rv.Modify = append(rv.Modify, s.cat.T(pc.lang, "portal.request.modify_quota", humanSize(pc.lang, m.QuotaBytes)))
			}
		}
	}
	for _, tid := range req.Targets {
		a, err := s.d.Store.AccountByID(ctx, tid)
		if err != nil {
			continue
		}
		rv.Targets = append(rv.Targets, s.personRow(pc.lang, a, pc.v))
	}
	events, err := s.d.Store.RequestEvents(ctx, req.ID)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return nil, false
	}
	for _, e := range events {
		rv.Events = append(rv.Events, auditRow{Time: s.fmtTime(pc.lang, e.Time), Actor: e.Actor, Action: s.reqStateLabel(pc.lang, e.Action), Detail: e.Detail})
	}
	return rv, true
}

func (s *Server) handleRequest(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	rv, ok := s.requestView(w, r, pc, id, "/portal/requests/")
	if !ok {
		return
	}
	rv.Back = "/portal/requests"
	p := s.portalPage(r, pc, areaPortal, "portal.request.title", "/portal/requests", nil)
	p.Title = p.T("portal.request.heading", rv.Row.ID)
	p.Body = rv
	s.render(w, r, http.StatusOK, "portal_request", p)
}

// handleRequestOp carries out or rejects a request (operators only, R7.5); the
// result or the reason is mailed to the requesting unit by lifecycle (R7.2), and
// the one-time passwords of the result are shown once here as well.
func (s *Server) handleRequestOp(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	if !s.check(w, r, pc, pc.v.HandleRequest()) {
		return
	}
	req, err := s.d.Store.RequestByID(ctx, id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	if !s.check(w, r, pc, pc.v.ReadRequest(req)) {
		return
	}
	var out *lifecycle.Outcome
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch r.PathValue("op") {
	case "carry":
		out, err = s.d.Life.Carry(ctx, id, pc.acct.Address)
	case "reject":
		out, err = s.d.Life.Reject(ctx, id, reason, pc.acct.Address)
	default:
		s.renderError(w, r, pc.lang, http.StatusNotFound, "portal.not_found")
		return
	}
	status, notice := http.StatusOK, "notice.request_"+r.PathValue("op")
	errText := ""
	if err != nil {
		text, ok := refusal(pc.lang, err)
		if !ok {
			s.serverError(w, r, pc.lang, err)
			return
		}
		status, notice, errText = http.StatusUnprocessableEntity, "", text
	}
	rv, ok := s.requestView(w, r, pc, id, "/portal/requests/")
	if !ok {
		return
	}
	rv.Back = "/portal/requests"
	rv.Rejection = reason
	if out != nil {
		rv.Lines = out.Lines
		for addr, pw := range out.Passwords {
			rv.Secrets = append(rv.Secrets, countSecret{addr, pw})
		}
		slices.SortFunc(rv.Secrets, func(a, b countSecret) int { return strings.Compare(a.Address, b.Address) })
	}
	p := s.portalPage(r, pc, areaPortal, "portal.request.title", "/portal/requests", nil)
	p.Title = p.T("portal.request.heading", rv.Row.ID)
	if notice != "" {
		p.Notice = p.T(notice)
	}
	p.Error = errText
	p.Body = rv
	s.render(w, r, status, "portal_request", p)
}

// ---- Transaction log (R11.3, R14.5) ----

// Paging of the log: one page for the screen; a bound on an export so that one
// download cannot hold a reader for minutes.
const (
	logPage      = 100
	logExportMax = 100000
	logChunk     = 1000
)

func logStatuses() []string {
	return []string{store.LogDelivered, store.LogDeferred, store.LogBounced, store.LogRefused, store.LogQuarantined}
}

type logForm struct {
	Address, IP, Status, Since, Until, MessageID, User string
}

type logRow struct {
	Time, Direction, From, To, IP, Size, MessageID, User, Status, Error string
}

type logView struct {
	Form     logForm
	Statuses []string
	Searched bool
	Rows     []logRow
	NextURL  string
	CSVURL   string
}

// logFilter reads the search form; the text is the refusal of a bad field.
func (s *Server) logFilter(lang i18n.Lang, q url.Values, limit int) (store.LogFilter, logForm, string) {
	f := logForm{Address: strings.ToLower(strings.TrimSpace(q.Get("address"))), IP: strings.TrimSpace(q.Get("ip")),
		Status: q.Get("status"), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		MessageID: strings.TrimSpace(q.Get("message_id")), User: strings.ToLower(strings.TrimSpace(q.Get("user")))}
	lf := store.LogFilter{Address: f.Address, MessageID: f.MessageID, AuthUser: f.User, Limit: limit}
	var bad []string
	if f.Address != "" && !strings.Contains(f.Address, "@") {
		bad = append(bad, s.cat.T(lang, "portal.log.err.address"))
	}
	if f.IP != "" {
		a, err := netip.ParseAddr(f.IP)
		if err != nil {
			bad = append(bad, s.cat.T(lang, "portal.log.err.ip"))
		} else {
			lf.ClientIP = a.Unmap().String()
		}
	}
	if f.Status != "" {
		if !slices.Contains(logStatuses(), f.Status) {
			bad = append(bad, s.cat.T(lang, "portal.log.err.status"))
		} else {
			lf.Status = f.Status
		}
	}
	date := func(v string, until bool) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := s.dayBound(v, until)
		if err != nil {
			bad = append(bad, s.cat.T(lang, "portal.log.err.date", v))
		}
		return t
	}
	lf.Since, lf.Until = date(f.Since, false), date(f.Until, true)
	if !lf.Since.IsZero() && !lf.Until.IsZero() && !lf.Since.Before(lf.Until) {
		bad = append(bad, s.cat.T(lang, "portal.log.err.order"))
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err == nil && n > 0 {
			lf.BeforeID = n
		}
	}
	return lf, f, strings.Join(bad, " ")
}

// dayBound reads a YYYY-MM-DD bound of a log or audit search: the start of
// that day in the province's zone, or for an until bound the start of the next
// day, so that the until day is included whole.
func (s *Server) dayBound(v string, until bool) (time.Time, error) {
	d, err := workdays.Parse(v)
	if err != nil {
		return time.Time{}, err
	}
	if until {
		d = d.AddDays(1)
	}
	return d.In(s.loc), nil
}

func (f logForm) query() url.Values {
	q := url.Values{"s": {"1"}}
	for k, v := range map[string]string{"address": f.Address, "ip": f.IP, "status": f.Status, "since": f.Since, "until": f.Until, "message_id": f.MessageID, "user": f.User} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// handleLog searches the transaction log, newest first, a page at a time. Every
// search is written to the audit log before it runs (R14.5).
func (s *Server) handleLog(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if !s.check(w, r, pc, pc.v.ReadLog()) {
		return
	}
	q := r.URL.Query()
	lf, form, bad := s.logFilter(pc.lang, q, logPage)
	lv := logView{Form: form, Statuses: logStatuses(), Searched: q.Get("s") != ""}
	p := s.portalPage(r, pc, areaPortal, "portal.log.title", "/portal/log", nil)
	status := http.StatusOK
	switch {
	case lv.Searched && bad != "":
		p.Error, status, lv.Searched = bad, http.StatusUnprocessableEntity, false
	case lv.Searched:
		if err := s.audit(ctx, pc.acct.Address, "log.search", maillog.Target(lf), maillog.Describe(lf)); err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		rows, err := s.d.Store.SearchLog(ctx, lf)
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		for _, e := range rows {
			lv.Rows = append(lv.Rows, logRow{Time: s.fmtTime(pc.lang, e.Time), Direction: p.T("portal.dir." + e.Direction), From: e.EnvelopeFrom,
				To: e.Recipient, IP: e.ClientIP, Size: humanSize(pc.lang, e.Size), MessageID: e.MessageID, User: e.AuthUser,
				Status: e.Status, Error: e.Error})
		}
		fq := form.query()
		lv.CSVURL = "/portal/log.csv?" + fq.Encode()
		if len(rows) == lf.Limit {
			fq.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
			lv.NextURL = "/portal/log?" + fq.Encode()
		}
	}
	p.Body = lv
	s.render(w, r, status, "portal_log", p)
}

// handleLogCSV exports the search as CSV (R11.3, R14.5: evidence), in the
// columns of maillog.WriteCSV; the export is audited like a search.
func (s *Server) handleLogCSV(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if !s.check(w, r, pc, pc.v.ReadLog()) {
		return
	}
	lf, _, bad := s.logFilter(pc.lang, r.URL.Query(), logChunk)
	if bad != "" {
		s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "portal.log.err.export")
		return
	}
	lf.BeforeID = 0 // an export is the whole search, not a page
	if err := s.audit(ctx, pc.acct.Address, "log.export", maillog.Target(lf), maillog.Describe(lf)); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	var rows []store.LogEntry
	for len(rows) < logExportMax {
		lf.Limit = min(logChunk, logExportMax-len(rows))
		part, err := s.d.Store.SearchLog(ctx, lf)
		if err != nil {
			s.serverError(w, r, pc.lang, err)
			return
		}
		rows = append(rows, part...)
		if len(part) < lf.Limit {
			break
		}
		lf.BeforeID = part[len(part)-1].ID
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="govmail-log-%s.csv"`, s.today().String()))
	w.WriteHeader(http.StatusOK)
	if err := maillog.WriteCSV(w, rows); err != nil {
		// The status is sent; all that is left is to say so in the log.
		s.log.Error("log export", "err", err)
	}
}

// ---- Audit log (R11.2) ----

type auditView struct {
	Target, Since, Until string
	Rows                 []auditRow
	Limited              bool
}

const auditPage = 200

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if !s.check(w, r, pc, pc.v.ReadAudit()) {
		return
	}
	q := r.URL.Query()
	av := auditView{Target: strings.TrimSpace(q.Get("target")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	p := s.portalPage(r, pc, areaPortal, "portal.audit.title", "/portal/audit", nil)
	var since, until time.Time
	status := http.StatusOK
	for _, f := range []struct {
		v    string
		dst  *time.Time
		next bool
	}{{av.Since, &since, false}, {av.Until, &until, true}} {
		if f.v == "" {
			continue
		}
		t, err := s.dayBound(f.v, f.next)
		if err != nil {
			p.Error, status = p.T("portal.log.err.date", f.v), http.StatusUnprocessableEntity
			continue
		}
		*f.dst = t
	}
	if status == http.StatusOK {
		entries, err := s.d.Store.SearchAudit(r.Context(), av.Target, since, until, auditPage)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.serverError(w, r, pc.lang, err)
			return
		}
		for _, e := range entries {
			av.Rows = append(av.Rows, auditRow{Time: s.fmtTime(pc.lang, e.Time), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
		}
		av.Limited = len(entries) == auditPage
	}
	p.Body = av
	s.render(w, r, status, "portal_audit", p)
}
