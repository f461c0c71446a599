package authreport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"

	"govmail/internal/authreport"
	"govmail/internal/clock"
	"govmail/internal/mailauth"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

type sent struct {
	from string
	to   []string
	raw  []byte
}

func newService(t *testing.T, d *testutil.DNS, clk clock.Clock) (*authreport.Service, *[]sent) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var out []sent
	s := &authreport.Service{Store: st, Resolver: d.Resolver(), Clock: clk, Hostname: "mail.sonla.gov.vn", From: "postmaster@sonla.gov.vn",
		Domains: []string{"sonla.gov.vn"},
		Submit: func(ctx context.Context, from string, to []string, raw []byte) error {
			mu.Lock()
			defer mu.Unlock()
			out = append(out, sent{from, to, raw})
			return nil
		}}
	return s, &out
}

func result(from, policyDomain string, spfOK, dkimOK bool, rua ...string) *mailauth.Result {
	r := &mailauth.Result{SPF: spf.Fail, SPFDomain: from, FromDomain: from, PolicyDomain: policyDomain,
		Record: &dmarc.Record{Policy: dmarc.PolicyReject, ReportURIAggregate: rua}, SPFAligned: spfOK, DKIMAligned: dkimOK}
	if spfOK {
		r.SPF = spf.Pass
	}
	if dkimOK {
		r.DKIM = []mailauth.DKIMResult{{Domain: from, Selector: "s1", Result: authres.ResultPass}}
	}
	return r
}

// Our DMARC report: counted per source and outcome over a UTC day, sent the
// next day to the rua the domain publishes then, once, parsing back to the
// same numbers; a rua in another domain needs that domain's consent (RFC
// 7489 7.1); our own domains are never reported.
func TestDMARCReportRoundTrip(t *testing.T) {
	d := testutil.StartDNS(t,
		`_dmarc.hanoi.gov.vn. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@hanoi.gov.vn!10m,mailto:agg@reports.example"`,
		`_dmarc.other.example. 300 IN TXT "v=DMARC1; p=none; rua=mailto:agg@reports.example"`,
		`other.example._report._dmarc.reports.example. 300 IN TXT "v=DMARC1"`,
	)
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	s, out := newService(t, d, clk)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		s.RecordDMARC(ctx, "192.0.2.10", "bounce@hanoi.gov.vn", result("hanoi.gov.vn", "hanoi.gov.vn", true, true, "mailto:dmarc@hanoi.gov.vn"), "none")
	}
	s.RecordDMARC(ctx, "198.51.100.7", "x@spam.example", result("hanoi.gov.vn", "hanoi.gov.vn", false, false, "mailto:dmarc@hanoi.gov.vn"), "reject")
	s.RecordDMARC(ctx, "198.51.100.8", "", result("other.example", "other.example", false, true, "mailto:agg@reports.example"), "none")
	s.RecordDMARC(ctx, "192.0.2.1", "a@sonla.gov.vn", result("sonla.gov.vn", "sonla.gov.vn", true, true, "mailto:postmaster@sonla.gov.vn"), "none")
	s.RecordDMARC(ctx, "192.0.2.1", "a@norua.example", result("norua.example", "norua.example", true, true), "none")

	// The day is not over: nothing goes.
	if got, err := s.Run(ctx); err != nil || got.Reports != 0 {
		t.Fatalf("same day: %+v %v", got, err)
	}
	clk.Set(time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC))
	got, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// hanoi: its own rua (agg@reports.example did not consent for hanoi); other.example: the consenting one.
	if got.Reports != 2 || got.Failed != 0 {
		t.Fatalf("run: %+v, want 2 reports", got)
	}
	byRcpt := map[string][]byte{}
	for _, m := range *out {
		byRcpt[m.to[0]] = m.raw
		if m.from != "postmaster@sonla.gov.vn" {
			t.Errorf("from %s", m.from)
		}
	}
	raw := byRcpt["dmarc@hanoi.gov.vn"]
	if raw == nil {
		t.Fatalf("no report to dmarc@hanoi.gov.vn: %v", byRcpt)
	}
	if !bytes.Contains(raw, []byte("Subject: Report Domain: hanoi.gov.vn Submitter: mail.sonla.gov.vn Report-ID:")) ||
		!bytes.Contains(raw, []byte("mail.sonla.gov.vn!hanoi.gov.vn!1795564800!1795651199.xml.gz")) {
		t.Fatalf("report mail headers:\n%s", raw[:600])
	}
	found, err := authreport.Extract(raw)
	if err != nil {
		t.Fatal(err)
	}
	fb := found[0].DMARC
	if fb.Policy.Domain != "hanoi.gov.vn" || fb.Policy.P != "reject" || fb.Metadata.OrgName != "mail.sonla.gov.vn" {
		t.Fatalf("report: %+v", fb)
	}
	if total, failed := fb.Totals(); total != 8 || failed != 1 {
		t.Fatalf("totals %d/%d, want 8/1", total, failed)
	}
	for _, r := range fb.Records {
		if r.Row.SourceIP == "198.51.100.7" && (r.Row.PolicyEvaluated.Disposition != "reject" || r.Identifiers.EnvelopeFrom != "spam.example") {
			t.Fatalf("failing row: %+v", r)
		}
	}
	if _, ok := byRcpt["agg@reports.example"]; !ok {
		t.Fatal("other.example's consenting external rua got nothing")
	}
	// Again, or from another node: nothing more.
	if got, _ := s.Run(ctx); got.Reports != 0 {
		t.Fatalf("second run sent %d", got.Reports)
	}
}

// Our TLS report: successes and each kind of failure per policy, to the
// mailto: and the https: the domain publishes; several TLSRPT records mean none.
func TestTLSReportRoundTrip(t *testing.T) {
	var posted []byte
	var ctype string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctype = r.Header.Get("Content-Type")
		posted, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	d := testutil.StartDNS(t,
		`_smtp._tls.hanoi.gov.vn. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@hanoi.gov.vn,`+srv.URL+`/tlsrpt"`,
		`_smtp._tls.twice.example. 300 IN TXT "v=TLSRPTv1; rua=mailto:a@twice.example"`,
		`_smtp._tls.twice.example. 300 IN TXT "v=TLSRPTv1; rua=mailto:b@twice.example"`,
	)
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	s, out := newService(t, d, clk)
	s.HTTP = srv.Client()
	ctx := context.Background()
	sts := authreport.TLSPolicy{Type: authreport.PolicySTS, String: []string{"version: STSv1", "mode: enforce", "mx: mx.hanoi.gov.vn", "max_age: 86400"}, MXHost: []string{"mx.hanoi.gov.vn"}}
	for i := 0; i < 4; i++ {
		s.RecordTLS(ctx, authreport.TLSEvent{Domain: "hanoi.gov.vn", Policy: sts, MXHost: "mx.hanoi.gov.vn", ReceivingIP: "192.0.2.5"})
	}
	s.RecordTLS(ctx, authreport.TLSEvent{Domain: "hanoi.gov.vn", Policy: sts, Result: authreport.ResultCertExpired, MXHost: "mx.hanoi.gov.vn", ReceivingIP: "192.0.2.5", SendingIP: "192.0.2.1", Info: "x509: certificate has expired"})
	s.RecordTLS(ctx, authreport.TLSEvent{Domain: "hanoi.gov.vn", Policy: authreport.TLSPolicy{Type: authreport.PolicyNotFound}, MXHost: "mx2.hanoi.gov.vn"})
	s.RecordTLS(ctx, authreport.TLSEvent{Domain: "twice.example", Policy: authreport.TLSPolicy{Type: authreport.PolicyNotFound}})
	s.RecordTLS(ctx, authreport.TLSEvent{Domain: "sonla.gov.vn", Policy: authreport.TLSPolicy{Type: authreport.PolicyNotFound}})
	clk.Set(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	got, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reports != 2 || got.NoReport != 1 {
		t.Fatalf("run: %+v, want 2 sent (mail + https) and 1 domain without a destination", got)
	}
	if len(*out) != 1 || (*out)[0].to[0] != "tlsrpt@hanoi.gov.vn" {
		t.Fatalf("mail: %+v", *out)
	}
	raw := (*out)[0].raw
	for _, want := range []string{"TLS-Report-Domain: hanoi.gov.vn", "TLS-Report-Submitter: mail.sonla.gov.vn", `report-type=tlsrpt`, "application/tlsrpt+gzip"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("report mail lacks %q:\n%s", want, raw[:800])
		}
	}
	found, err := authreport.Extract(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := found[0].TLS
	if total, failed := r.Totals(); total != 6 || failed != 1 || len(r.Policies) != 2 {
		t.Fatalf("report %+v: totals %d/%d", r, total, failed)
	}
	for _, p := range r.Policies {
		if p.Policy.Type == authreport.PolicySTS && (p.Summary.Successful != 4 || p.FailureDetails[0].ResultType != authreport.ResultCertExpired || p.FailureDetails[0].ReceivingIP != "192.0.2.5") {
			t.Fatalf("sts policy result %+v", p)
		}
	}
	if ctype != "application/tlsrpt+gzip" {
		t.Fatalf("posted as %q", ctype)
	}
	zr, err := gzip.NewReader(bytes.NewReader(posted))
	if err != nil {
		t.Fatal(err)
	}
	var viaHTTP authreport.TLSReport
	if err := json.NewDecoder(zr).Decode(&viaHTTP); err != nil || viaHTTP.ReportID != r.ReportID {
		t.Fatalf("posted report %+v %v", viaHTTP, err)
	}
}

// Received reports are stored once each and keep their numbers.
func TestIntake(t *testing.T) {
	d := testutil.StartDNS(t)
	clk := clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))
	s, _ := newService(t, d, clk)
	ctx := context.Background()
	raw := authreport.MailWith("application/gzip", "google.com!sonla.gov.vn!1795564800!1795651199.xml.gz", authreport.Gzip(t, []byte(authreport.GoogleStyle)))
	for i, want := range []int{1, 0} {
		n, err := s.Intake(ctx, raw)
		if err != nil || n != want {
			t.Fatalf("intake %d: %d %v, want %d", i, n, err, want)
		}
	}
	if n, err := s.Intake(ctx, authreport.MailWith("application/tlsrpt+gzip", "x.json.gz", authreport.Gzip(t, []byte(authreport.TLSSample)))); n != 1 || err != nil {
		t.Fatalf("tls intake: %d %v", n, err)
	}
	list, err := s.Store.ReceivedReports(ctx, "", 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %v %v", list, err)
	}
	dm := list[1]
	if dm.Kind != store.ReportDMARC || dm.Org != "google.com" || dm.Domain != "sonla.gov.vn" || dm.Total != 44 || dm.Failed != 3 ||
		!dm.Begin.Equal(time.Unix(1795564800, 0)) {
		t.Fatalf("dmarc stored %+v", dm)
	}
	var back authreport.Feedback
	if err := json.Unmarshal([]byte(dm.Body), &back); err != nil || len(back.Records) != 2 {
		t.Fatalf("body %v %v", back, err)
	}
	// Operators read failures first.
	lines, err := authreport.Lines(&dm)
	if err != nil || len(lines) != 2 || lines[0].OK || lines[0].Source != "2001:db8::9" || lines[0].Result != "dkim=fail spf=fail → quarantine" ||
		!strings.Contains(lines[0].Detail, "SPF spammer.example: fail") {
		t.Fatalf("dmarc lines %+v %v", lines, err)
	}
	tl, err := authreport.Lines(&list[0])
	if err != nil || len(tl) != 4 || tl[0].Result != "starttls-not-supported" || tl[0].Count != 200 || tl[0].Source != "mail.sonla.gov.vn 203.0.113.56" ||
		tl[1].Result != "certificate-expired" || !tl[2].OK || tl[2].Count != 5326 {
		t.Fatalf("tls lines %+v %v", tl, err)
	}
	if _, err := s.Intake(ctx, []byte("From: a@b\r\n\r\nhi\r\n")); err == nil {
		t.Fatal("a plain message was taken as a report")
	}
}

// A destination that cannot be read now (DNS failing) leaves the report for
// the next run instead of losing it.
func TestReportRetriedAfterDNSFailure(t *testing.T) {
	d := testutil.StartDNS(t, `_dmarc.hanoi.gov.vn. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@hanoi.gov.vn"`)
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	s, out := newService(t, d, clk)
	ctx := context.Background()
	s.RecordDMARC(ctx, "192.0.2.10", "a@hanoi.gov.vn", result("hanoi.gov.vn", "hanoi.gov.vn", true, true, "mailto:dmarc@hanoi.gov.vn"), "none")
	clk.Set(time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC))
	d.Fail("_dmarc.hanoi.gov.vn.", dns.RcodeServerFailure)
	if got, err := s.Run(ctx); err != nil || got.Failed != 1 || got.Reports != 0 {
		t.Fatalf("run with DNS failing: %+v %v", got, err)
	}
	d.Fail("_dmarc.hanoi.gov.vn.", dns.RcodeSuccess)
	clk.Set(time.Date(2026, 11, 26, 1, 30, 0, 0, time.UTC))
	if got, err := s.Run(ctx); err != nil || got.Reports != 1 || len(*out) != 1 {
		t.Fatalf("next run: %+v %v, %d sent", got, err, len(*out))
	}
}

// A report the queue does not take is sent by the next run.
func TestReportRetriedAfterSubmitFailure(t *testing.T) {
	d := testutil.StartDNS(t, `_dmarc.hanoi.gov.vn. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@hanoi.gov.vn"`)
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	s, out := newService(t, d, clk)
	ctx := context.Background()
	s.RecordDMARC(ctx, "192.0.2.10", "a@hanoi.gov.vn", result("hanoi.gov.vn", "hanoi.gov.vn", true, true, "mailto:dmarc@hanoi.gov.vn"), "none")
	clk.Set(time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC))
	submit := s.Submit
	s.Submit = func(context.Context, string, []string, []byte) error { return errors.New("queue full") }
	if got, _ := s.Run(ctx); got.Failed != 1 || got.Reports != 0 {
		t.Fatalf("run with the queue failing: %+v", got)
	}
	s.Submit = submit
	if got, err := s.Run(ctx); err != nil || got.Reports != 1 || len(*out) != 1 {
		t.Fatalf("next run: %+v %v, %d sent", got, err, len(*out))
	}
	if got, _ := s.Run(ctx); got.Reports != 0 {
		t.Fatalf("a third run sent it again: %+v", got)
	}
}
