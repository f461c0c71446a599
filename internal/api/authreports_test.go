package api

import (
	"context"
	"testing"
	"time"

	"govmail/internal/store"
)

// Received DMARC and TLS reports (issue 5): operators list and read them;
// other roles and read-only tokens are refused; bad queries say which field.
func TestAuthReports(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	body := `{"organization-name":"Company-X","report-id":"r1","policies":[{"policy":{"policy-type":"sts","policy-domain":"sonla.gov.vn","mx-host":["mail.sonla.gov.vn"]},` +
		`"summary":{"total-successful-session-count":9,"total-failure-session-count":1},"failure-details":[{"result-type":"certificate-expired","receiving-ip":"203.0.113.5","failed-session-count":1}]}]}`
	r := &store.ReceivedReport{Kind: store.ReportTLS, Org: "Company-X", ReportID: "r1", Domain: "sonla.gov.vn",
		Begin: day, End: day.Add(24*time.Hour - time.Second), ReceivedAt: day.Add(26 * time.Hour), Total: 10, Failed: 1, Body: body}
	if err := e.st.SaveReceivedReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	op := as{account: e.op}
	list := e.expect(e.do(op, "GET", "/api/v1/authreports", nil), 200).json(t)
	rs := list["reports"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["org"] != "Company-X" || rs[0].(map[string]any)["failed"].(float64) != 1 {
		t.Fatalf("list %v", list)
	}
	if got := e.expect(e.do(op, "GET", "/api/v1/authreports?kind=dmarc", nil), 200).json(t); len(got["reports"].([]any)) != 0 {
		t.Fatalf("dmarc only: %v", got)
	}
	one := e.expect(e.do(op, "GET", "/api/v1/authreports/1", nil), 200).json(t)
	lines := one["lines"].([]any)
	if len(lines) != 2 || lines[0].(map[string]any)["result"] != "certificate-expired" || lines[1].(map[string]any)["ok"] != true {
		t.Fatalf("one %v", one)
	}
	e.expect(e.do(op, "GET", "/api/v1/authreports/99", nil), 404)
	e.expect(e.do(op, "GET", "/api/v1/authreports?kind=spf", nil), 400)
	e.expect(e.do(op, "GET", "/api/v1/authreports?limit=0", nil), 400)
	// Reports name other servers' addresses: operators only, with logs:read.
	e.expect(e.do(as{account: e.mgrA}, "GET", "/api/v1/authreports", nil), 403)
	e.expect(e.do(as{token: e.opReadToken}, "GET", "/api/v1/authreports", nil), 403)
}
