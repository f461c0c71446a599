package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"govmail/internal/authreport"
	"govmail/internal/store"
)

// authReportJSON is a received DMARC aggregate or TLS report (issue 5).
type authReportJSON struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Org        string    `json:"org"`
	ReportID   string    `json:"report_id"`
	Domain     string    `json:"domain"`
	Begin      time.Time `json:"begin"`
	End        time.Time `json:"end"`
	ReceivedAt time.Time `json:"received_at"`
	Total      int64     `json:"total"`
	Failed     int64     `json:"failed"`
	// Lines are set on a single report: failures first.
	Lines []authreport.Line `json:"lines,omitempty"`
}

func toAuthReport(r *store.ReceivedReport) authReportJSON {
	return authReportJSON{ID: r.ID, Kind: r.Kind, Org: r.Org, ReportID: r.ReportID, Domain: r.Domain,
		Begin: r.Begin.UTC(), End: r.End.UTC(), ReceivedAt: r.ReceivedAt, Total: r.Total, Failed: r.Failed}
}

// listAuthReports lists the reports received, newest period first.
func (a *API) listAuthReports(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	kind := q.Get("kind")
	if kind != "" && kind != store.ReportDMARC && kind != store.ReportTLS {
		v.add("kind", "invalid", "Loại báo cáo phải là dmarc hoặc tls.", "kind must be dmarc or tls.")
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			v.add("limit", "invalid", "limit phải từ 1 đến 1000.", "limit must be 1 to 1000.")
		}
		limit = n
	}
	if err := v.err(); err != nil {
		return err
	}
	rs, err := a.d.Store.ReceivedReports(c.ctx, kind, limit)
	if err != nil {
		return err
	}
	out := make([]authReportJSON, 0, len(rs))
	for i := range rs {
		out = append(out, toAuthReport(&rs[i]))
	}
	return c.json(http.StatusOK, map[string]any{"reports": out})
}

// getAuthReport returns one report with its lines.
func (a *API) getAuthReport(c *call) error {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("report")
	}
	r, err := a.d.Store.ReceivedReportByID(c.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("report")
	}
	if err != nil {
		return err
	}
	out := toAuthReport(r)
	if out.Lines, err = authreport.Lines(r); err != nil {
		return err
	}
	return c.json(http.StatusOK, out)
}
