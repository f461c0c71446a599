package web

import (
	"net/http"
	"strconv"

	"govmail/internal/authreport"
	"govmail/internal/store"
)

// The DMARC aggregate and TLS reports other operators mail to our postmaster
// (issue 5): what they saw of our mail's SPF/DKIM alignment and of our MX's
// TLS, so that a forged sender or a broken certificate is noticed.

const authReportsMax = 200

type authReportRow struct {
	URL, Kind, Org, Domain, Period, Received string
	Total, Failed                            int64
}

type authReportsView struct {
	Kind  string
	Kinds []string
	Rows  []authReportRow
	More  bool
	Limit int
	// Report and Lines are set on one report's page.
	Report *authReportRow
	ID     string
	Lines  []authreport.Line
}

func (s *Server) authReportRoutes(m *http.ServeMux) {
	p := func(h portalHandler) http.HandlerFunc { return s.portalRoute(areaPortal, h) }
	m.HandleFunc("GET /portal/authreports", p(s.handleAuthReports))
	m.HandleFunc("GET /portal/authreports/{id}", p(s.handleAuthReport))
}

func (s *Server) authReportRow(pc *portalCtx, r *store.ReceivedReport) authReportRow {
	period := r.Begin.UTC().Format("2006-01-02")
	if end := r.End.UTC().Format("2006-01-02"); end != period {
		period += " – " + end
	}
	return authReportRow{URL: "/portal/authreports/" + strconv.FormatInt(r.ID, 10), Kind: r.Kind, Org: r.Org, Domain: r.Domain,
		Period: period, Received: s.fmtTime(pc.lang, r.ReceivedAt), Total: r.Total, Failed: r.Failed}
}

func (s *Server) handleAuthReports(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	// The reports name the addresses that send as our domains: operators'
	// reading, like the transaction log (R11.3).
	if !s.check(w, r, pc, pc.v.ReadLog()) {
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != store.ReportDMARC && kind != store.ReportTLS {
		kind = ""
	}
	rs, err := s.d.Store.ReceivedReports(r.Context(), kind, authReportsMax+1)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	v := authReportsView{Kind: kind, Kinds: []string{store.ReportDMARC, store.ReportTLS}, Limit: authReportsMax}
	if len(rs) > authReportsMax {
		rs, v.More = rs[:authReportsMax], true
	}
	for i := range rs {
		v.Rows = append(v.Rows, s.authReportRow(pc, &rs[i]))
	}
	p := s.portalPage(r, pc, areaPortal, "portal.authreports.title", "/portal/authreports", nil)
	p.Body = v
	s.render(w, r, http.StatusOK, "portal_authreports", p)
}

func (s *Server) handleAuthReport(w http.ResponseWriter, r *http.Request, pc *portalCtx) {
	if !s.check(w, r, pc, pc.v.ReadLog()) {
		return
	}
	id, ok := s.pathID(w, r, pc.lang, "id")
	if !ok {
		return
	}
	rr, err := s.d.Store.ReceivedReportByID(r.Context(), id)
	if err != nil {
		s.portalNotFoundOr(w, r, pc.lang, err)
		return
	}
	lines, err := authreport.Lines(rr)
	if err != nil {
		s.serverError(w, r, pc.lang, err)
		return
	}
	row := s.authReportRow(pc, rr)
	p := s.portalPage(r, pc, areaPortal, "portal.authreports.title", "/portal/authreports", nil)
	p.Body = authReportsView{Report: &row, ID: rr.ReportID, Lines: lines}
	s.render(w, r, http.StatusOK, "portal_authreports", p)
}
