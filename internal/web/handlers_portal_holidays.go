package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"govmail/internal/store"
	"govmail/internal/web/i18n"
	"govmail/internal/workdays"
)

// ---- Working-day calendar (C3, C4) ----

// editCalendar applies one edit of date d and writes the file. An edit that
// does not reach the file is undone, so that what deadlines are counted with
// now is what the next start loads.
func (s *Server) editCalendar(d workdays.Date, apply func() error) error {
	s.calMu.Lock()
	defer s.calMu.Unlock()
	cal := s.d.Calendar
	hadTable := cal.HasTable(d.Year())
	prev, had := cal.Lookup(d)
	if err := apply(); err != nil {
		return err
	}
	if err := s.d.Calendar.SaveFile(s.d.Config.DataDir); err != nil {
		switch {
		case !hadTable:
			cal.DropYear(d.Year())
		case had:
			cal.Set(prev)
		default:
			cal.Remove(d)
		}
		return err
	}
	return nil
}

// calendarYearOK bounds the years the page shows and edits: the computed
// defaults need the lunar calendar, and no deadline runs outside this century.
func calendarYearOK(y int) bool { return y >= 2000 && y <= 2100 }

type holidayRow struct {
	ISO      string
	Date     string
	Weekday  string
	Kind     string
	KindText string
	Name     string
	Note     string
}

type holidayForm struct {
	Date, Kind, Name, Note string
}

// restoreDeadlineRow is a waiting restore request with the deadline recorded at
// receipt and the one the calendar gives now.
type restoreDeadlineRow struct {
	ID        int64
	URL       string
	Unit      string
	DocNumber string
	Received  string
	Recorded  string
	Current   string
	Differs   bool
}

type holidaysView struct {
	Year             int
	PrevURL, NextURL string
	// Table: the year has a table (shipped, loaded or edited); else the page
	// shows the computed defaults, which an edit turns into its table.
	Table             bool
	Rows              []holidayRow
	Holidays, Makeups int
	Kinds             []string
	Form              holidayForm
	// The deadline of a restore request (R8.5) received on Received.
	Received     string
	ReceivedText string
	Deadline     string
	Days         int
	Waiting      []restoreDeadlineRow
}

func (s *Server) weekday(lang i18n.Lang, d workdays.Date) string {
	return s.cat.T(lang, "portal.weekday."+strconv.Itoa(int(d.Weekday())))
}

// dayText writes a date with its weekday: "Thứ năm, 26/11/2026".
func (s *Server) dayText(lang i18n.Lang, d workdays.Date) string {
	return s.weekday(lang, d) + ", " + fmtDate(lang, d.String())
}

// restoreDays is the restore deadline in working days (R8.5).
func (s *Server) restoreDays() int {
	if n := s.d.Life.Policy.RestoreWorkingDays; n > 0 {
		return n
	}
	return 3
}

func (s *Server) handleHolidays(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Calendar == nil) || !s.check(w, r, pc, pc.v.EditCalendar()) {
		return
	}
	q := r.URL.Query()
	today := s.today()
	year, received := today.Year(), today
	var bad []string
	if v := strings.TrimSpace(q.Get("year")); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || !calendarYearOK(y) {
			bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.year"))
		} else {
			year = y
		}
	}
	recText := strings.TrimSpace(q.Get("received"))
	if recText != "" {
		d, err := workdays.Parse(recText)
		if err != nil || !calendarYearOK(d.Year()) {
			bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.received"))
		} else {
			received = d
		}
	}
	status := http.StatusOK
	if len(bad) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.renderHolidays(w, r, pc, status, year, received, recText, holidayForm{Kind: workdays.Holiday.String()}, strings.Join(bad, " "))
}

func (s *Server) renderHolidays(w http.ResponseWriter, r *http.Request, pc *portalCtx, status, year int, received workdays.Date, recText string, f holidayForm, errText string) {
	cal := s.d.Calendar
	p := s.portalPage(r, pc, areaPortal, "portal.holidays.title", "/portal/holidays", nil)
	hv := holidaysView{Year: year, Table: cal.HasTable(year), Form: f,
		Kinds: []string{workdays.Holiday.String(), workdays.MakeupWorkday.String()}, Days: s.restoreDays()}
	if calendarYearOK(year - 1) {
		hv.PrevURL = "/portal/holidays?year=" + strconv.Itoa(year-1)
	}
	if calendarYearOK(year + 1) {
		hv.NextURL = "/portal/holidays?year=" + strconv.Itoa(year+1)
	}
	for _, e := range cal.Year(year) {
		hv.Rows = append(hv.Rows, holidayRow{ISO: e.Date.String(), Date: fmtDate(pc.lang, e.Date.String()), Weekday: s.weekday(pc.lang, e.Date),
			Kind: e.Kind.String(), KindText: p.T("portal.holidays.kind." + e.Kind.String()), Name: e.Name, Note: e.Note})
		if e.Kind == workdays.MakeupWorkday {
			hv.Makeups++
		} else {
			hv.Holidays++
		}
	}
	// The deadline calculator: what a restore request received on that day is
	// due by, with this calendar (C3: the day of receipt is not counted).
	hv.Received = recText
	if hv.Received == "" {
		hv.Received = received.String()
	}
	hv.ReceivedText = s.dayText(pc.lang, received)
	hv.Deadline = s.dayText(pc.lang, cal.AddWorkingDays(received, hv.Days))
	waiting, err := s.waitingRestores(r.Context(), pc)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	hv.Waiting = waiting
	p.Error = errText
	p.Body = hv
	s.render(w, r, status, "portal_holidays", p)
}

// waitingRestores lists the restore requests still waiting, with the deadline
// recorded at receipt beside the one this calendar gives: an edit (24/11, C4)
// shows at once which deadlines it moves.
func (s *Server) waitingRestores(ctx context.Context, pc *portalCtx) ([]restoreDeadlineRow, error) {
	reqs, err := s.d.Store.ListRequests(ctx, store.RequestFilter{State: store.RequestReceived, Kind: store.RequestRestore})
	if err != nil {
		return nil, err
	}
	sortQueue(reqs)
	var out []restoreDeadlineRow
	for _, rq := range reqs {
		receipt := workdays.DateOf(rq.ReceivedAt, s.loc)
		cur := s.d.Calendar.AddWorkingDays(receipt, s.restoreDays()).String()
		row := restoreDeadlineRow{ID: rq.ID, URL: "/portal/requests/" + strconv.FormatInt(rq.ID, 10), DocNumber: rq.DocNumber,
			Received: fmtDate(pc.lang, receipt.String()), Recorded: fmtDate(pc.lang, rq.Deadline), Current: fmtDate(pc.lang, cur),
			Differs: rq.Deadline != "" && rq.Deadline != cur}
		if u, ok := pc.v.Unit(rq.UnitID); ok {
			row.Unit = u.Name
		}
		out = append(out, row)
	}
	return out, nil
}

// calendarDate reads the date of an edit form.
func (s *Server) calendarDate(v string) (workdays.Date, bool) {
	d, err := workdays.Parse(strings.TrimSpace(v))
	return d, err == nil && calendarYearOK(d.Year())
}

// handleHolidaySet adds a day off or a make-up working day, or replaces the
// entry of its date (C3; C4: 24 November when it becomes a holiday).
func (s *Server) handleHolidaySet(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if s.unavailable(w, r, pc, s.d.Calendar == nil) || !s.check(w, r, pc, pc.v.EditCalendar()) {
		return
	}
	f := holidayForm{Date: strings.TrimSpace(r.PostFormValue("date")), Kind: r.PostFormValue("kind"),
		Name: strings.Join(strings.Fields(r.PostFormValue("name")), " "), Note: strings.Join(strings.Fields(r.PostFormValue("note")), " ")}
	today := s.today()
	year := today.Year()
	var bad []string
	d, ok := s.calendarDate(f.Date)
	if ok {
		year = d.Year()
	} else {
		bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.date"))
	}
	kind, err := workdays.ParseKind(f.Kind)
	if err != nil {
		bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.kind"))
	}
	if f.Name == "" {
		bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.name"))
	}
	if len(bad) == 0 && kind == workdays.MakeupWorkday && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
		bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.makeup_weekday", s.dayText(pc.lang, d)))
	}
	e := workdays.Entry{Date: d, Kind: kind, Name: f.Name, Note: f.Note}
	if e.Note == "" {
		// Where the entry came from, as the shipped rows say "official" or "computed".
		e.Note = "operator; " + pc.acct.Address + " " + today.String()
	}
	if len(bad) == 0 {
		if err := e.Validate(); err != nil {
			bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.invalid"))
		}
	}
	if len(bad) == 0 && s.d.Config.DataDir == "" {
		bad = append(bad, s.cat.T(pc.lang, "portal.holidays.err.not_durable"))
	}
	if len(bad) > 0 {
		s.renderHolidays(w, r, pc, http.StatusUnprocessableEntity, year, today, "", f, strings.Join(bad, " "))
		return
	}
	detail := fmt.Sprintf("%s %q; %s", kind, e.Name, e.Note)
	if old, had := s.d.Calendar.Lookup(d); had {
		detail += fmt.Sprintf("; trước đó / was %s %q", old.Kind, old.Name)
	}
	if err := s.audit(ctx, pc.acct.Address, "calendar.set", d.String(), detail); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if err := s.editCalendar(d, func() error { return s.d.Calendar.Set(e) }); err != nil {
		s.calendarFailed(w, r, pc, d, err)
		return
	}
	seeOther(w, r, "/portal/holidays?year="+strconv.Itoa(d.Year()), "holiday_set")
}

// handleHolidayRemove deletes the entry of a date, which then follows the
// Monday–Friday rule.
func (s *Server) handleHolidayRemove(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	ctx := r.Context()
	if s.unavailable(w, r, pc, s.d.Calendar == nil) || !s.check(w, r, pc, pc.v.EditCalendar()) {
		return
	}
	today := s.today()
	d, ok := s.calendarDate(r.PostFormValue("date"))
	if !ok {
		s.renderHolidays(w, r, pc, http.StatusUnprocessableEntity, today.Year(), today, "", holidayForm{Kind: workdays.Holiday.String()},
			s.cat.T(pc.lang, "portal.holidays.err.date"))
		return
	}
	old, had := s.d.Calendar.Lookup(d)
	switch {
	case !had:
		s.renderHolidays(w, r, pc, http.StatusUnprocessableEntity, d.Year(), today, "", holidayForm{Kind: workdays.Holiday.String()},
			s.cat.T(pc.lang, "portal.holidays.err.no_entry", fmtDate(pc.lang, d.String())))
		return
	case s.d.Config.DataDir == "":
		s.renderHolidays(w, r, pc, http.StatusUnprocessableEntity, d.Year(), today, "", holidayForm{Kind: workdays.Holiday.String()},
			s.cat.T(pc.lang, "portal.holidays.err.not_durable"))
		return
	}
	if err := s.audit(ctx, pc.acct.Address, "calendar.remove", d.String(), fmt.Sprintf("%s %q; %s", old.Kind, old.Name, old.Note)); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	if err := s.editCalendar(d, func() error { s.d.Calendar.Remove(d); return nil }); err != nil {
		s.calendarFailed(w, r, pc, d, err)
		return
	}
	seeOther(w, r, "/portal/holidays?year="+strconv.Itoa(d.Year()), "holiday_removed")
}

// calendarFailed answers an edit that was audited but could not be saved, and
// so was undone: the audit log says so too.
func (s *Server) calendarFailed(w http.ResponseWriter, r *http.Request, pc *portalCtx, d workdays.Date, err error) {
	if aerr := s.audit(r.Context(), pc.acct.Address, "calendar.undone", d.String(), err.Error()); aerr != nil {
		s.log.Error("audit", "err", aerr)
	}
	s.serverError(w, r, pc.lang, err)
}
