package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

// The received DMARC and TLS reports (issue 5): operators list them, filter
// by kind and read one with its failing sources first, in Vietnamese and
// English; everyone else gets the 403 page.
func TestPortalAuthReports(t *testing.T) {
	pe := newPortalEnv(t)
	seedAuthReports(t, pe)
	op := pe.signedIn(pe.op)
	// The dashboard sums the week's reports (the test clock is in the week).
	if r := op.get("/portal"); !strings.Contains(r.body, `id="n-dmarc-failed">3 / 44<`) || !strings.Contains(r.body, `id="n-tls-failed">1 / 10<`) ||
		!strings.Contains(r.body, "Theo 2 báo cáo") {
		t.Errorf("dashboard does not sum the reports:\n%s", r.body)
	}
	r := op.get("/portal/authreports")
	if r.status != http.StatusOK || !strings.Contains(r.body, "google.com") || !strings.Contains(r.body, "Company-X") ||
		!strings.Contains(r.body, "Báo cáo DMARC và TLS nhận được") || !strings.Contains(r.body, `href="/portal/authreports/1"`) {
		t.Fatalf("list: %d\n%s", r.status, r.body)
	}
	if r := op.get("/portal/authreports?kind=tls"); strings.Contains(r.body, "google.com") || !strings.Contains(r.body, "Company-X") {
		t.Fatalf("kind=tls shows DMARC reports:\n%s", r.body)
	}
	r = op.get("/portal/authreports/1")
	fail, ok := strings.Index(r.body, "198.51.100.9"), strings.Index(r.body, "203.0.113.25")
	if r.status != http.StatusOK || fail < 0 || ok < 0 || fail > ok || !strings.Contains(r.body, "SPF gia-mao.example: fail") || !strings.Contains(r.body, "DMARC tổng hợp") {
		t.Fatalf("report: %d\n%s", r.status, r.body)
	}
	if r := op.get("/portal/authreports/2"); !strings.Contains(r.body, "certificate-expired") || !strings.Contains(r.body, "Chính sách / máy chủ MX") {
		t.Fatalf("tls report:\n%s", r.body)
	}
	if r := op.get("/portal/authreports/99"); r.status != http.StatusNotFound {
		t.Fatalf("missing report: %d", r.status)
	}
	op.get("/lang/en")
	for _, p := range []string{"/portal/authreports", "/portal/authreports/1", "/portal/authreports/2"} {
		r := op.get(p)
		if i := strings.Index(r.body, "⟦"); i >= 0 || r.status != http.StatusOK {
			t.Errorf("en %s: %d, missing text near %q", p, r.status, r.body[max(0, i):min(len(r.body), max(0, i)+60)])
		}
	}
	if r := op.get("/portal/authreports/1"); !strings.Contains(r.body, "DMARC aggregate") || !strings.Contains(r.body, "Sending IP") {
		t.Errorf("English report page:\n%s", r.body)
	}
	for _, who := range []*store.Account{pe.an, pe.head} {
		b := pe.signedIn(who)
		for _, p := range []string{"/portal/authreports", "/portal/authreports/1"} {
			if r := b.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s: GET %s = %d", who.Address, p, r.status)
			}
		}
	}
}

// seedAuthReports stores a DMARC report (google.com, a forger's IP failing)
// and a TLS report (Company-X, an expired certificate) of two days before the
// test clock, and a month-old DMARC report.
func seedAuthReports(t *testing.T, pe *portalEnv) {
	t.Helper()
	ctx := context.Background()
	// Two days before the test clock: within the dashboard's week.
	day := testStart.UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
	dmarcBody := `{"report_metadata":{},"policy_published":{"domain":"sonla.gov.vn","p":"quarantine"},"records":[` +
		`{"row":{"source_ip":"203.0.113.25","count":41,"policy_evaluated":{"disposition":"none","dkim":"pass","spf":"pass"}},"identifiers":{"header_from":"sonla.gov.vn"},"auth_results":{"spf":[{"domain":"sonla.gov.vn","result":"pass"}]}},` +
		`{"row":{"source_ip":"198.51.100.9","count":3,"policy_evaluated":{"disposition":"quarantine","dkim":"fail","spf":"fail"}},"identifiers":{"header_from":"sonla.gov.vn"},"auth_results":{"spf":[{"domain":"gia-mao.example","result":"fail"}]}}]}`
	tlsBody := `{"organization-name":"Company-X","report-id":"t1","policies":[{"policy":{"policy-type":"sts","policy-domain":"sonla.gov.vn","mx-host":["mail.sonla.gov.vn"]},` +
		`"summary":{"total-successful-session-count":9,"total-failure-session-count":1},"failure-details":[{"result-type":"certificate-expired","receiving-ip":"203.0.113.5","failed-session-count":1}]}]}`
	for _, r := range []*store.ReceivedReport{
		{Kind: store.ReportDMARC, Org: "google.com", ReportID: "g1", Domain: "sonla.gov.vn", Begin: day, End: day.Add(24*time.Hour - time.Second),
			ReceivedAt: day.Add(30 * time.Hour), Total: 44, Failed: 3, Body: dmarcBody},
		{Kind: store.ReportTLS, Org: "Company-X", ReportID: "t1", Domain: "sonla.gov.vn", Begin: day, End: day.Add(24*time.Hour - time.Second),
			ReceivedAt: day.Add(31 * time.Hour), Total: 10, Failed: 1, Body: tlsBody},
		// A month old: listed, but not in the dashboard's week.
		{Kind: store.ReportDMARC, Org: "old.example", ReportID: "o1", Domain: "sonla.gov.vn", Begin: day.AddDate(0, 0, -30), End: day.AddDate(0, 0, -29),
			ReceivedAt: day.AddDate(0, 0, -28), Total: 1000, Failed: 900, Body: dmarcBody},
	} {
		if err := pe.st.SaveReceivedReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}
