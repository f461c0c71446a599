package web

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"govmail/internal/report"
	"govmail/internal/store"
	"govmail/internal/web/i18n"
	"govmail/internal/workdays"
)

// ---- Periodic report (R7.3) ----

// The report page chooses a period and a scope; the report itself is built
// by internal/report and shown as its own HTML page in a frame (its style is
// inline, which the portal's CSP refuses and the frame's allows), and offered
// as CSV and XLSX. Building it reads the units' mail counts, so every view and
// download is audited like a log search (R14.5).

type reportForm struct {
	Kind      string // month, quarter, year or dates
	Month     string // 2026-03
	QYear, Q  string
	Year      string
	From, To  string
	Unit      string // a unit's local part; "" is the whole province
	Requested bool
}

type reportsView struct {
	Form    reportForm
	Kinds   []string
	Units   []store.Unit
	Shown   bool
	Label   string // the period, in the page's language
	Scope   string
	ViewURL string
	CSVURL  string
	XLSXURL string
}

func reportKinds() []string { return []string{"month", "quarter", "year", "dates"} }

// defaultReportForm proposes the last whole month: the report is monthly
// (R7.3) and the current month is not over.
func (s *Server) defaultReportForm() reportForm {
	today := s.today()
	last := workdays.NewDate(today.Year(), today.Month(), 1).AddDays(-1)
	return reportForm{Kind: "month", Month: fmt.Sprintf("%04d-%02d", last.Year(), int(last.Month())),
		QYear: strconv.Itoa(today.Year()), Q: strconv.Itoa((int(today.Month())-1)/3 + 1), Year: strconv.Itoa(today.Year()),
		From: workdays.NewDate(today.Year(), today.Month(), 1).String(), To: today.String()}
}

// period reads the period the form chose.
func (f reportForm) period() (report.Period, bool) {
	switch f.Kind {
	case "month":
		// ParsePeriod wants exactly 2026-03; a month field sends that.
		if len(f.Month) != 7 {
			return report.Period{}, false
		}
		p, err := report.ParsePeriod(f.Month)
		return p, err == nil
	case "quarter":
		p, err := report.ParsePeriod(strings.TrimSpace(f.QYear) + "-Q" + strings.TrimSpace(f.Q))
		return p, err == nil
	case "year":
		y := strings.TrimSpace(f.Year)
		if strings.Contains(y, "-") {
			return report.Period{}, false
		}
		p, err := report.ParsePeriod(y)
		return p, err == nil
	case "dates":
		from, err1 := workdays.Parse(strings.TrimSpace(f.From))
		to, err2 := workdays.Parse(strings.TrimSpace(f.To))
		if err1 != nil || err2 != nil {
			return report.Period{}, false
		}
		p, err := report.Between(from, to)
		return p, err == nil
	}
	return report.Period{}, false
}

// periodFromKey reads the key of a period (report.Period.Key), as the view and
// download links carry it.
func periodFromKey(key string) (report.Period, bool) {
	if a, b, ok := strings.Cut(key, "_"); ok {
		from, err1 := workdays.Parse(a)
		to, err2 := workdays.Parse(b)
		if err1 != nil || err2 != nil {
			return report.Period{}, false
		}
		p, err := report.Between(from, to)
		return p, err == nil
	}
	p, err := report.ParsePeriod(key)
	return p, err == nil && p.Key == key
}

// reportScope checks a period and a scope: the period has begun and is in a
// sane range, the unit exists, and the account may read its figures — a
// unit's those of ReadLogCounts, the province's those of the whole log. It
// answers the refusal itself (text, status) or returns the unit (nil: province).
func (s *Server) reportScope(pc *portalCtx, p report.Period, unitLP string) (*store.Unit, string, int) {
	if p.From.Year() < 2000 || p.To.Year() > 2100 {
		return nil, s.cat.T(pc.lang, "portal.reports.err.period"), http.StatusUnprocessableEntity
	}
	if !s.d.Clock.Now().After(p.Start(workdays.Location())) {
		return nil, s.cat.T(pc.lang, "portal.reports.err.future"), http.StatusUnprocessableEntity
	}
	if unitLP == "" {
		if pc.v.ReadLog() != nil {
			return nil, s.cat.T(pc.lang, "portal.forbidden"), http.StatusForbidden
		}
		return nil, "", 0
	}
	for _, u := range s.sortedUnits(pc.v) {
		if u.LocalPart == unitLP {
			if pc.v.ReadLogCounts(u.ID) != nil {
				return nil, s.cat.T(pc.lang, "portal.forbidden"), http.StatusForbidden
			}
			return &u, "", 0
		}
	}
	return nil, s.cat.T(pc.lang, "unit.err.no_unit", unitLP), http.StatusUnprocessableEntity
}

func periodLabel(lang i18n.Lang, p report.Period) string {
	return i18n.Pick(lang, p.LabelVI(), p.LabelEN())
}

func (s *Server) handleReports(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Reports == nil) {
		return
	}
	q := r.URL.Query()
	f := s.defaultReportForm()
	if q.Has("kind") {
		f = reportForm{Kind: q.Get("kind"), Month: strings.TrimSpace(q.Get("month")), QYear: q.Get("qyear"), Q: q.Get("q"),
			Year: q.Get("year"), From: q.Get("from"), To: q.Get("to"), Unit: strings.TrimSpace(q.Get("unit")), Requested: true}
	}
	rv := reportsView{Form: f, Kinds: reportKinds(), Units: s.sortedUnits(pc.v)}
	p := s.portalPage(r, pc, areaPortal, "portal.reports.title", "/portal/reports", nil)
	status := http.StatusOK
	if f.Requested {
		per, ok := f.period()
		var unit *store.Unit
		errText, code := s.cat.T(pc.lang, "portal.reports.err.period"), http.StatusUnprocessableEntity
		if ok {
			unit, errText, code = s.reportScope(pc, per, f.Unit)
		}
		if code == http.StatusForbidden {
			s.forbidden(w, r, pc)
			return
		}
		if errText != "" {
			p.Error, status = errText, code
		} else {
			rv.Shown = true
			rv.Label = periodLabel(pc.lang, per)
			rv.Scope = p.T("portal.reports.province")
			if unit != nil {
				rv.Scope = unit.Name
			}
			lq := url.Values{"period": {per.Key}}
			if unit != nil {
				lq.Set("unit", unit.LocalPart)
			}
			rv.ViewURL = "/portal/reports/view?" + lq.Encode()
			lq.Set("format", report.FormatCSV)
			rv.CSVURL = "/portal/reports/download?" + lq.Encode()
			lq.Set("format", report.FormatXLSX)
			rv.XLSXURL = "/portal/reports/download?" + lq.Encode()
		}
	}
	p.Body = rv
	s.render(w, r, status, "portal_reports", p)
}

// buildReport reads the period and scope of a view or download link, builds the
// report and audits it; it answers every refusal itself.
func (s *Server) buildReport(w http.ResponseWriter, r *http.Request, pc *portalCtx, action, format string) (*report.Report, bool) {
	q := r.URL.Query()
	per, ok := periodFromKey(q.Get("period"))
	if !ok {
		s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "portal.reports.err.period")
		return nil, false
	}
	unitLP := strings.TrimSpace(q.Get("unit"))
	unit, errText, code := s.reportScope(pc, per, unitLP)
	switch {
	case code == http.StatusForbidden:
		s.forbidden(w, r, pc)
		return nil, false
	case errText != "":
		s.renderMessage(w, r, pc.lang, code, s.cat.T(pc.lang, "error.title"), errText)
		return nil, false
	}
	lp := ""
	if unit != nil {
		lp = unit.LocalPart
	}
	rep, err := s.d.Reports.Build(r.Context(), per, lp)
	if err != nil {
		switch {
		case errors.Is(err, report.ErrFuture):
			s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "portal.reports.err.future")
		case errors.Is(err, report.ErrNoUnit):
			s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "unit.err.no_unit", lp)
		default:
			s.serverError(w, r, pc.lang, err)
		}
		return nil, false
	}
	target := cmp.Or(lp, "province")
	if err := s.audit(r.Context(), pc.acct.Address, action, target, strings.TrimSpace(per.Key+" "+format)); err != nil {
		s.serverError(w, r, pc.lang, err)
		return nil, false
	}
	return rep, true
}

// reportFrameCSP is the policy of the report page in its frame: its own inline
// style and nothing else — no script, no request, no form — and only this site
// may frame it. The sandbox keeps it same-origin so that the portal's script can
// size the frame to it, as for mail bodies.
const reportFrameCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'self'; sandbox allow-same-origin"

// handleReportView serves the report as internal/report writes it in HTML.
func (s *Server) handleReportView(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Reports == nil) {
		return
	}
	rep, ok := s.buildReport(w, r, pc, "report.view", "")
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, report.FormatHTML); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", reportFrameCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// handleReportDownload offers the report as CSV or XLSX for the People's
// Committee (R7.3).
func (s *Server) handleReportDownload(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if s.unavailable(w, r, pc, s.d.Reports == nil) {
		return
	}
	format := r.URL.Query().Get("format")
	if format != report.FormatCSV && format != report.FormatXLSX {
		s.renderError(w, r, pc.lang, http.StatusUnprocessableEntity, "portal.reports.err.format")
		return
	}
	rep, ok := s.buildReport(w, r, pc, "report.export", format)
	if !ok {
		return
	}
	// Written to memory first, so that a failure is a clean error page rather
	// than half a file.
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, format); err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	setReportFileHeaders(w.Header(), rep, format)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// setReportFileHeaders names a CSV or XLSX report download, for the portal's
// report page and a unit's export alike.
func setReportFileHeaders(h http.Header, rep *report.Report, format string) {
	ct := "text/csv; charset=utf-8"
	if format == report.FormatXLSX {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, rep.FileName(format)))
}
