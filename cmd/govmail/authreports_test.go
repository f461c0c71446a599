package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"govmail/internal/store"
)

// `govmail admin authreports`: the reports received, one in detail with its
// failures first, and a clear refusal of what does not exist.
func TestAdminAuthReports(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := testStore(t, dir)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	body := `{"report_metadata":{},"policy_published":{"domain":"sonla.gov.vn","p":"quarantine"},"records":[` +
		`{"row":{"source_ip":"203.0.113.25","count":41,"policy_evaluated":{"disposition":"none","dkim":"pass","spf":"pass"}},"identifiers":{"header_from":"sonla.gov.vn"},"auth_results":{"spf":[{"domain":"sonla.gov.vn","result":"pass"}]}},` +
		`{"row":{"source_ip":"198.51.100.9","count":3,"policy_evaluated":{"disposition":"quarantine","dkim":"fail","spf":"fail"}},"identifiers":{"header_from":"sonla.gov.vn"},"auth_results":{"spf":[{"domain":"bad.example","result":"fail"}]}}]}`
	if err := st.SaveReceivedReport(ctx, &store.ReceivedReport{Kind: store.ReportDMARC, Org: "google.com", ReportID: "443", Domain: "sonla.gov.vn",
		Begin: day, End: day.Add(24*time.Hour - time.Second), ReceivedAt: day.Add(30 * time.Hour), Total: 44, Failed: 3, Body: body}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdAuthReports(ctx, append(args, "-data", dir), &out, &errb)
		return out.String(), err
	}
	out, err := run("list")
	if err != nil || !strings.Contains(out, "google.com") || !strings.Contains(out, "2026-11-25") || !strings.Contains(out, "44") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := run("list", "--kind", "tls"); err != nil || !strings.Contains(out, "no reports received") {
		t.Fatalf("list --kind tls: %v\n%s", err, out)
	}
	out, err = run("show", "1")
	if err != nil {
		t.Fatal(err)
	}
	fail, ok := strings.Index(out, "198.51.100.9"), strings.Index(out, "203.0.113.25")
	if fail < 0 || ok < 0 || fail > ok || !strings.Contains(out, "dkim=fail spf=fail → quarantine") || !strings.Contains(out, "SPF bad.example: fail") {
		t.Fatalf("show (failures first):\n%s", out)
	}
	if _, err := run("show", "99"); err == nil || !strings.Contains(err.Error(), "no report 99") {
		t.Fatalf("show 99: %v", err)
	}
	if _, err := run("list", "--kind", "spf"); err == nil || !strings.Contains(err.Error(), "dmarc or tls") {
		t.Fatalf("bad kind: %v", err)
	}
	if out, err := run("send"); err != nil || !strings.Contains(out, "sent 0 reports") {
		t.Fatalf("send with nothing counted: %v\n%s", err, out)
	}
}
