package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"govmail/internal/maillog"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// Paging of the transaction log: one page for the screen, a bound on an export
// so that one call cannot hold a reader for minutes.
const (
	logPageDefault = 100
	logExportMax   = 100000
	logChunk       = 1000
	// countScanMax bounds the rows one count walks; a unit's month is far less.
	countScanMax = 200000
)

func logStatuses() []string {
	return []string{store.LogDelivered, store.LogDeferred, store.LogBounced, store.LogRefused, store.LogQuarantined}
}

// timeRange reads since/until as RFC 3339 times or local dates (YYYY-MM-DD;
// until is inclusive of its whole day).
func (a *API) timeRange(since, until string, v *invalid) (time.Time, time.Time) {
	parse := func(name, s string, endOfDay bool) time.Time {
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
		d, err := workdays.Parse(s)
		if err != nil {
			v.add(name, "invalid", "Thời điểm không hợp lệ (YYYY-MM-DD hoặc RFC 3339).", "Invalid time (YYYY-MM-DD or RFC 3339).")
			return time.Time{}
		}
		if endOfDay {
			d = d.AddDays(1)
		}
		return d.In(a.loc)
	}
	s, u := parse("since", since, false), parse("until", until, true)
	if !s.IsZero() && !u.IsZero() && !s.Before(u) {
		v.add("until", "order", "Thời điểm kết thúc phải sau thời điểm bắt đầu.", "until must be after since.")
	}
	return s, u
}

// logFilter reads the search of R11.3 from the query, field by field.
func (a *API) logFilter(q url.Values, defLimit, maxLimit int) (store.LogFilter, error) {
	var v invalid
	f := store.LogFilter{
		Address:   strings.ToLower(strings.TrimSpace(q.Get("address"))),
		Status:    q.Get("status"),
		MessageID: strings.TrimSpace(q.Get("message_id")),
		AuthUser:  strings.ToLower(strings.TrimSpace(q.Get("user"))),
	}
	if f.Status != "" && !slices.Contains(logStatuses(), f.Status) {
		v.add("status", "invalid", "Trạng thái phải là delivered, deferred, bounced, refused hoặc quarantined.",
			"Status must be delivered, deferred, bounced, refused or quarantined.")
	}
	if ip := strings.TrimSpace(q.Get("ip")); ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			v.add("ip", "invalid", "Địa chỉ IP không hợp lệ.", "Invalid IP address.")
		} else {
			f.ClientIP = addr.Unmap().String()
		}
	}
	if f.Address != "" && !strings.Contains(f.Address, "@") {
		v.add("address", "invalid", "Địa chỉ thư không hợp lệ.", "Not an e-mail address.")
	}
	if s := q.Get("before_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			v.add("before_id", "invalid", "Phải là số nguyên dương.", "Must be a positive integer.")
		}
		f.BeforeID = n
	}
	f.Limit = intParam(q.Get("limit"), "limit", defLimit, 1, maxLimit, &v)
	f.Since, f.Until = a.timeRange(q.Get("since"), q.Get("until"), &v)
	return f, v.err()
}

// searchLogs searches the transaction log (R11.3), newest first, paged by id:
// next_before_id is the before_id of the next page. The search is written to
// the audit log before it runs (R14.5), and not run when it cannot be.
func (a *API) searchLogs(c *call) error {
	f, err := a.logFilter(c.r.URL.Query(), logPageDefault, logChunk)
	if err != nil {
		return err
	}
	if err := c.audit("log.search", maillog.Target(f), maillog.Describe(f)); err != nil {
		return err
	}
	rows, err := a.d.Store.SearchLog(c.ctx, f)
	if err != nil {
		return err
	}
	out := struct {
		Entries      []logJSON `json:"entries"`
		NextBeforeID *int64    `json:"next_before_id"`
	}{Entries: make([]logJSON, 0, len(rows))}
	for _, e := range rows {
		out.Entries = append(out.Entries, a.logJSON(e))
	}
	if len(rows) == f.Limit {
		// The smallest id of the page: paging by id (the store's contract)
		// then never repeats a row and always ends.
		id := rows[0].ID
		for _, e := range rows {
			id = min(id, e.ID)
		}
		out.NextBeforeID = &id
	}
	return c.json(http.StatusOK, out)
}

// exportLogs writes the search as CSV (R11.3, R14.5: evidence of violations),
// with the same columns as `govmail admin log search --csv`.
func (a *API) exportLogs(c *call) error {
	f, err := a.logFilter(c.r.URL.Query(), 10000, logExportMax)
	if err != nil {
		return err
	}
	if err := c.audit("log.export", maillog.Target(f), maillog.Describe(f)); err != nil {
		return err
	}
	// One read, not pages: the store orders by time but pages by id, and an
	// export that is evidence (R14.5) must not skip a row between pages.
	rows, err := a.d.Store.SearchLog(c.ctx, f)
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="govmail-log-%s.csv"`, a.today().String()))
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	if err := maillog.WriteCSV(c.w, rows); err != nil {
		// The status is sent; all that is left is to say so in the log.
		a.log.Error("log export", "err", err)
	}
	return nil
}

// logCounts counts a unit's transaction-log rows by status and direction over a
// period (default the last 30 days): what its security contact reads (R12.1)
// without the rows themselves. A row between two of the unit's accounts counts
// once. The read is audited like a search (R14.5).
func (a *API) logCounts(c *call) error {
	q := c.r.URL.Query()
	var v invalid
	key := strings.TrimSpace(q.Get("unit"))
	if key == "" {
		v.required("unit")
	}
	since, until := a.timeRange(q.Get("since"), q.Get("until"), &v)
	if err := v.err(); err != nil {
		return err
	}
	u, err := a.lookupUnit(c.ctx, key)
	if err != nil {
		return err
	}
	if err := c.v.ReadLogCounts(u.ID); err != nil {
		return err
	}
	if since.IsZero() {
		since = a.today().AddDays(-30).In(a.loc)
	}
	if err := c.audit("log.counts", u.LocalPart, fmt.Sprintf("since=%s until=%s", since.Format(time.RFC3339), until.Format(time.RFC3339))); err != nil {
		return err
	}
	byStatus := map[string]int{}
	byDirection := map[string]int{}
	seen := map[int64]bool{}
	accounts, truncated := 0, false
	for _, id := range c.v.Subtree(u.ID) {
		accs, err := a.d.Store.ListAccounts(c.ctx, store.AccountFilter{UnitID: id})
		if err != nil {
			return err
		}
		for _, acc := range accs {
			accounts++
			if truncated {
				continue
			}
			// One read per account (see exportLogs): at most what is left to scan.
			rows, err := a.d.Store.SearchLog(c.ctx, store.LogFilter{Address: acc.Address, Since: since, Until: until, Limit: countScanMax - len(seen) + 1})
			if err != nil {
				return err
			}
			for _, e := range rows {
				if seen[e.ID] {
					continue
				}
				seen[e.ID] = true
				byStatus[e.Status]++
				byDirection[e.Direction]++
			}
			if len(seen) >= countScanMax {
				truncated = true
			}
		}
	}
	var untilS *string
	if !until.IsZero() {
		untilS = a.ts(until)
	}
	return c.json(http.StatusOK, map[string]any{
		"unit": u.LocalPart, "since": a.ts(since), "until": untilS, "accounts": accounts,
		"total": len(seen), "by_status": byStatus, "by_direction": byDirection, "truncated": truncated,
	})
}
