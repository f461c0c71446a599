package authreport

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	"govmail/internal/clock"
	"govmail/internal/mailauth"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
	"govmail/internal/testutil"
)

// A report as the large reporters write it: a namespace, optional fields
// left out, two records.
const googleStyle = `<?xml version="1.0" encoding="UTF-8" ?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>4431187329516543</report_id>
    <date_range><begin>1795564800</begin><end>1795651199</end></date_range>
  </report_metadata>
  <policy_published><domain>sonla.gov.vn</domain><adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>quarantine</sp><pct>100</pct></policy_published>
  <record>
    <row><source_ip>203.0.113.25</source_ip><count>41</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>sonla.gov.vn</header_from></identifiers>
    <auth_results><dkim><domain>sonla.gov.vn</domain><selector>g2026</selector><result>pass</result></dkim>
      <spf><domain>sonla.gov.vn</domain><result>pass</result></spf></auth_results>
  </record>
  <record>
    <row><source_ip>2001:db8::9</source_ip><count>3</count>
      <policy_evaluated><disposition>quarantine</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>sonla.gov.vn</header_from></identifiers>
    <auth_results><spf><domain>spammer.example</domain><result>fail</result></spf></auth_results>
  </record>
</feedback>`

func TestParseDMARC(t *testing.T) {
	fb, err := ParseDMARC([]byte(googleStyle))
	if err != nil {
		t.Fatal(err)
	}
	if fb.Metadata.OrgName != "google.com" || fb.Policy.Domain != "sonla.gov.vn" || len(fb.Records) != 2 || *fb.Policy.Pct != 100 {
		t.Fatalf("parsed %+v", fb)
	}
	if total, failed := fb.Totals(); total != 44 || failed != 3 {
		t.Fatalf("totals %d/%d, want 44/3", total, failed)
	}
	// What cannot be shown is refused, saying why.
	for name, bad := range map[string]string{
		"no org":     strings.Replace(googleStyle, "<org_name>google.com</org_name>", "", 1),
		"no id":      strings.Replace(googleStyle, "<report_id>4431187329516543</report_id>", "", 1),
		"backwards":  strings.Replace(googleStyle, "<end>1795651199</end>", "<end>1</end>", 1),
		"negative":   strings.Replace(googleStyle, "<count>41</count>", "<count>-4</count>", 1),
		"bad ip":     strings.Replace(googleStyle, "203.0.113.25", "mx.example", 1),
		"not xml":    "{\"policies\": []}",
		"truncated":  googleStyle[:400],
		"other root": "<html><body>hi</body></html>",
	} {
		if _, err := ParseDMARC([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "dmarc report: ") {
			t.Errorf("%s: error %q does not say what it was reading", name, err)
		}
	}
}

// An RFC 8460 report; mx-host once as a list, once as a bare string (some
// reporters write it so).
const tlsReport = `{
 "organization-name": "Company-X",
 "date-range": {"start-datetime": "2026-11-25T00:00:00Z", "end-datetime": "2026-11-25T23:59:59Z"},
 "contact-info": "sts-reporting@company-x.example",
 "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
 "policies": [{
   "policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce", "mx: mail.sonla.gov.vn", "max_age: 86400"],
              "policy-domain": "sonla.gov.vn", "mx-host": ["mail.sonla.gov.vn"]},
   "summary": {"total-successful-session-count": 5326, "total-failure-session-count": 303},
   "failure-details": [{"result-type": "certificate-expired", "sending-mta-ip": "2001:db8:abcd:0012::1",
       "receiving-mx-hostname": "mail.sonla.gov.vn", "failed-session-count": 100},
     {"result-type": "starttls-not-supported", "sending-mta-ip": "2001:db8:abcd:0013::1",
       "receiving-mx-hostname": "mail.sonla.gov.vn", "receiving-ip": "203.0.113.56", "failed-session-count": 200,
       "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"}]
 }, {
   "policy": {"policy-type": "no-policy-found", "policy-domain": "sonla.gov.vn", "mx-host": "mail2.sonla.gov.vn"},
   "summary": {"total-successful-session-count": 10, "total-failure-session-count": 0}
 }]
}`

func TestParseTLS(t *testing.T) {
	r, err := ParseTLS([]byte(tlsReport))
	if err != nil {
		t.Fatal(err)
	}
	if r.Domain() != "sonla.gov.vn" || len(r.Policies) != 2 || r.Policies[1].Policy.MXHost[0] != "mail2.sonla.gov.vn" {
		t.Fatalf("parsed %+v", r)
	}
	if total, failed := r.Totals(); total != 5639 || failed != 303 {
		t.Fatalf("totals %d/%d, want 5639/303", total, failed)
	}
	for name, bad := range map[string]string{
		"no org":      strings.Replace(tlsReport, `"Company-X"`, `""`, 1),
		"no policies": `{"organization-name":"x","report-id":"1","date-range":{"start-datetime":"2026-11-25T00:00:00Z","end-datetime":"2026-11-25T23:59:59Z"},"policies":[]}`,
		"backwards":   strings.Replace(tlsReport, "2026-11-25T23:59:59Z", "2026-11-24T23:59:59Z", 1),
		"negative":    strings.Replace(tlsReport, "5326", "-5326", 1),
		"no domain":   strings.Replace(tlsReport, `"policy-domain": "sonla.gov.vn", "mx-host": ["mail`, `"policy-domain": "", "mx-host": ["mail`, 1),
		"not json":    googleStyle,
	} {
		if _, err := ParseTLS([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zipped(t testing.TB, name string, b []byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b)
	w.Close()
	return buf.Bytes()
}

// mailWith wraps an attachment the way reporters do.
func mailWith(ctype, name string, data []byte) []byte {
	var b strings.Builder
	b.WriteString("From: noreply-dmarc-support@google.com\r\nTo: postmaster@sonla.gov.vn\r\nSubject: Report domain: sonla.gov.vn\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	b.WriteString("--b1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate report.\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, name, name)
	b.WriteString(base64Lines(data))
	b.WriteString("--b1--\r\n")
	return []byte(b.String())
}

func TestExtractForms(t *testing.T) {
	for name, raw := range map[string][]byte{
		"gzip":            mailWith("application/gzip", "google.com!sonla.gov.vn!1795564800!1795651199.xml.gz", gz(t, []byte(googleStyle))),
		"zip":             mailWith("application/zip", "google.com!sonla.gov.vn!1795564800!1795651199.zip", zipped(t, "report.xml", []byte(googleStyle))),
		"octet-stream gz": mailWith("application/octet-stream", "r.xml.gz", gz(t, []byte(googleStyle))),
		"plain xml":       mailWith("text/xml", "r.xml", []byte(googleStyle)),
		"tlsrpt":          mailWith("application/tlsrpt+gzip", "x!sonla.gov.vn!1!2.json.gz", gz(t, []byte(tlsReport))),
	} {
		found, err := Extract(raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(found) != 1 {
			t.Errorf("%s: found %d reports", name, len(found))
			continue
		}
		if (name == "tlsrpt") != (found[0].Kind == store.ReportTLS) {
			t.Errorf("%s: kind %s", name, found[0].Kind)
		}
	}
	// No report, a broken one, a bomb: each said plainly.
	plain := []byte("From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n")
	if _, err := Extract(plain); err == nil || !strings.Contains(err.Error(), "no DMARC or TLS report") {
		t.Fatalf("plain mail: %v", err)
	}
	if _, err := Extract(mailWith("application/gzip", "r.xml.gz", []byte("not gzip"))); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("broken gzip: %v", err)
	}
	bomb := gz(t, bytes.Repeat([]byte(" "), maxDecoded+10))
	if _, err := Extract(mailWith("application/gzip", "r.xml.gz", bomb)); err == nil || !strings.Contains(err.Error(), "decompressed") {
		t.Fatalf("bomb: %v", err)
	}
}

func base64Lines(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc + "\r\n")
	return out.String()
}

type sent struct {
	from string
	to   []string
	raw  []byte
}

func newService(t *testing.T, d *testutil.DNS, clk clock.Clock) (*Service, *[]sent) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var out []sent
	s := &Service{Store: st, Resolver: d.Resolver(), Clock: clk, Hostname: "mail.sonla.gov.vn", From: "postmaster@sonla.gov.vn",
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
	found, err := Extract(raw)
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
	sts := TLSPolicy{Type: PolicySTS, String: []string{"version: STSv1", "mode: enforce", "mx: mx.hanoi.gov.vn", "max_age: 86400"}, MXHost: []string{"mx.hanoi.gov.vn"}}
	for i := 0; i < 4; i++ {
		s.RecordTLS(ctx, TLSEvent{Domain: "hanoi.gov.vn", Policy: sts, MXHost: "mx.hanoi.gov.vn", ReceivingIP: "192.0.2.5"})
	}
	s.RecordTLS(ctx, TLSEvent{Domain: "hanoi.gov.vn", Policy: sts, Result: ResultCertExpired, MXHost: "mx.hanoi.gov.vn", ReceivingIP: "192.0.2.5", SendingIP: "192.0.2.1", Info: "x509: certificate has expired"})
	s.RecordTLS(ctx, TLSEvent{Domain: "hanoi.gov.vn", Policy: TLSPolicy{Type: PolicyNotFound}, MXHost: "mx2.hanoi.gov.vn"})
	s.RecordTLS(ctx, TLSEvent{Domain: "twice.example", Policy: TLSPolicy{Type: PolicyNotFound}})
	s.RecordTLS(ctx, TLSEvent{Domain: "sonla.gov.vn", Policy: TLSPolicy{Type: PolicyNotFound}})
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
	found, err := Extract(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := found[0].TLS
	if total, failed := r.Totals(); total != 6 || failed != 1 || len(r.Policies) != 2 {
		t.Fatalf("report %+v: totals %d/%d", r, total, failed)
	}
	for _, p := range r.Policies {
		if p.Policy.Type == PolicySTS && (p.Summary.Successful != 4 || p.FailureDetails[0].ResultType != ResultCertExpired || p.FailureDetails[0].ReceivingIP != "192.0.2.5") {
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
	var viaHTTP TLSReport
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
	raw := mailWith("application/gzip", "google.com!sonla.gov.vn!1795564800!1795651199.xml.gz", gz(t, []byte(googleStyle)))
	for i, want := range []int{1, 0} {
		n, err := s.Intake(ctx, raw)
		if err != nil || n != want {
			t.Fatalf("intake %d: %d %v, want %d", i, n, err, want)
		}
	}
	if n, err := s.Intake(ctx, mailWith("application/tlsrpt+gzip", "x.json.gz", gz(t, []byte(tlsReport)))); n != 1 || err != nil {
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
	var back Feedback
	if err := json.Unmarshal([]byte(dm.Body), &back); err != nil || len(back.Records) != 2 {
		t.Fatalf("body %v %v", back, err)
	}
	if _, err := s.Intake(ctx, []byte("From: a@b\r\n\r\nhi\r\n")); err == nil {
		t.Fatal("a plain message was taken as a report")
	}
}
