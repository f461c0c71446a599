package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/authreport"
	"govmail/internal/store"
	"govmail/internal/testutil"
)

// Issue 5 part 4 end to end with a real Postfix as the other domain: the
// DMARC outcomes of mail Postfix relays to us and the TLS outcomes of mail we
// send to it become, the next UTC day, a DMARC aggregate report and a TLS
// report delivered to the rua addresses example.test publishes; a DMARC report
// Postfix relays to our postmaster is read and kept for the operators.
func TestAuthReportsWithPostfix(t *testing.T) {
	testutil.NeedPostfix(t)
	dns := testutil.StartDNS(t, "example.test. 300 IN MX 10 mx.example.test.", "mx.example.test. 300 IN A 127.0.0.1",
		`example.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
		`_dmarc.example.test. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc-agg@example.test"`,
		`_smtp._tls.example.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls-rpt@example.test"`)
	s, pf := withPostfix(t, dns, nil)
	ctx := context.Background()
	a := s.AddAccount(t, "hoant.skhcn@sonla.gov.vn", pw)
	op := s.AddAccount(t, "quantri@sonla.gov.vn", pw)
	s.App.Store.SetRole(ctx, op.ID, store.RoleOperator)

	// One message out: a TLS session with example.test's MX.
	c := dialSubmissionTLS(t, s)
	if err := c.Auth(sasl.NewPlainClient("", a.Address, pw)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(a.Address, []string{"friend@example.test"}, strings.NewReader(
		"From: hoant.skhcn@sonla.gov.vn\r\nTo: friend@example.test\r\nSubject: out\r\n\r\nKính gửi.\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	pf.WaitMessages(t, 1, 30*time.Second)

	// Two messages in through Postfix: one aligned (SPF), one whose envelope
	// is another domain's (DMARC fails; p=quarantine files it in Junk).
	relay := func(envFrom, headerFrom, subject string) {
		t.Helper()
		pc, err := smtp.Dial(pf.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		pc.Hello("client.example.test")
		if err := pc.Mail(envFrom, nil); err != nil {
			t.Fatal(err)
		}
		if err := pc.Rcpt(a.Address, nil); err != nil {
			t.Fatalf("Postfix refused our recipient: %v", err)
		}
		w, _ := pc.Data()
		w.Write([]byte("From: " + headerFrom + "\r\nTo: " + a.Address + "\r\nSubject: " + subject + "\r\n\r\nXin chào.\r\n"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		pc.Quit()
	}
	relay("friend@example.test", "friend@example.test", "aligned")
	relay("someone@elsewhere.test", "boss@example.test", "spoofed")
	waitFor(t, "both relayed messages", func() bool {
		n := 0
		for _, mb := range []string{"INBOX", "Junk"} {
			m, err := s.App.Store.MailboxByName(ctx, a.ID, mb)
			if err == nil {
				st, _ := s.App.Store.MailboxStatus(ctx, m.ID)
				n += int(st.Messages)
			}
		}
		return n == 2
	})

	// The next UTC day's run (a clock two days on, so that a test running
	// across midnight still finds every count) sends both reports.
	sent, err := s.App.AuthReports.RunAt(ctx, time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sent.Reports < 2 || sent.Failed != 0 {
		t.Fatalf("run: %+v, want a DMARC and a TLS report", sent)
	}
	msgs := pf.WaitMessages(t, 1+sent.Reports, 30*time.Second)
	var dmarcTotal, dmarcFailed, tlsOK int64
	var sawQuarantine bool
	for _, m := range msgs {
		// Maildir names do not keep the order of arrival: pick the reports.
		if !bytes.Contains(m, []byte("Subject: Report Domain:")) {
			continue
		}
		if !bytes.Contains(m, []byte("DKIM-Signature:")) {
			t.Errorf("report mail not DKIM-signed:\n%s", m[:min(len(m), 600)])
		}
		found, err := authreport.Extract(m)
		if err != nil {
			t.Fatalf("Postfix got a report it cannot be read back: %v", err)
		}
		for _, f := range found {
			switch f.Kind {
			case store.ReportDMARC:
				if !bytes.Contains(m, []byte("dmarc-agg@example.test")) {
					t.Errorf("DMARC report not to the rua")
				}
				tot, failed := f.DMARC.Totals()
				dmarcTotal += tot
				dmarcFailed += failed
				for _, r := range f.DMARC.Records {
					if r.Row.PolicyEvaluated.Disposition == "quarantine" && r.Identifiers.EnvelopeFrom == "elsewhere.test" {
						sawQuarantine = true
					}
				}
			case store.ReportTLS:
				if !bytes.Contains(m, []byte("TLS-Report-Domain: example.test")) {
					t.Errorf("TLS report without its TLS-Report-Domain field")
				}
				tot, failed := f.TLS.Totals()
				if failed != 0 {
					t.Errorf("TLS failures reported with a working STARTTLS: %+v", f.TLS)
				}
				tlsOK += tot
			}
		}
	}
	if dmarcTotal != 2 || dmarcFailed != 1 || !sawQuarantine {
		t.Fatalf("DMARC report: %d messages, %d failed, quarantine row %v; want 2, 1, true", dmarcTotal, dmarcFailed, sawQuarantine)
	}
	if tlsOK < 1 {
		t.Fatalf("TLS report counts %d sessions, want the outbound one", tlsOK)
	}

	// A report another operator sends us, relayed by Postfix to postmaster@.
	relayReport(t, pf.Addr, "postmaster@sonla.gov.vn", dmarcReportMail(t))
	waitFor(t, "the received report", func() bool {
		rs, _ := s.App.Store.ReceivedReports(ctx, store.ReportDMARC, 10)
		return len(rs) == 1
	})
	rs, _ := s.App.Store.ReceivedReports(ctx, store.ReportDMARC, 10)
	if r := rs[0]; r.Org != "example.test" || r.Domain != "sonla.gov.vn" || r.Total != 12 || r.Failed != 2 {
		t.Fatalf("received report %+v", r)
	}
	// It still reached the operators' mailbox: nothing is taken away.
	waitFor(t, "the report in the operator's INBOX", func() bool { return len(inboxBodies(t, s, op)) == 1 })
}

func relayReport(t *testing.T, addr, rcpt string, raw []byte) {
	t.Helper()
	pc, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.Hello("client.example.test")
	if err := pc.Mail("dmarc-noreply@example.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := pc.Rcpt(rcpt, nil); err != nil {
		t.Fatal(err)
	}
	w, _ := pc.Data()
	w.Write(raw)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pc.Quit()
}

// dmarcReportMail is a report about sonla.gov.vn as example.test would send it.
func dmarcReportMail(t *testing.T) []byte {
	xml := `<?xml version="1.0"?><feedback><report_metadata><org_name>example.test</org_name><email>dmarc-noreply@example.test</email>
<report_id>e2e-1</report_id><date_range><begin>1795564800</begin><end>1795651199</end></date_range></report_metadata>
<policy_published><domain>sonla.gov.vn</domain><p>quarantine</p></policy_published>
<record><row><source_ip>127.0.0.1</source_ip><count>10</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
<identifiers><header_from>sonla.gov.vn</header_from></identifiers><auth_results><dkim><domain>sonla.gov.vn</domain><result>pass</result></dkim><spf><domain>sonla.gov.vn</domain><result>pass</result></spf></auth_results></record>
<record><row><source_ip>198.51.100.9</source_ip><count>2</count><policy_evaluated><disposition>quarantine</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
<identifiers><header_from>sonla.gov.vn</header_from></identifiers><auth_results><spf><domain>bad.example</domain><result>fail</result></spf></auth_results></record></feedback>`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(xml))
	zw.Close()
	enc := base64.StdEncoding.EncodeToString(gz.Bytes())
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return []byte("From: dmarc-noreply@example.test\r\nTo: postmaster@sonla.gov.vn\r\nSubject: Report Domain: sonla.gov.vn Submitter: example.test Report-ID: <e2e-1>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nDMARC report.\r\n" +
		"--x\r\nContent-Type: application/gzip\r\nContent-Disposition: attachment; filename=\"example.test!sonla.gov.vn!1795564800!1795651199.xml.gz\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n--x--\r\n")
}

// Counts waiting in memory are written at shutdown: a restart loses none.
func TestAuthReportCountsSurviveShutdown(t *testing.T) {
	dir := t.TempDir()
	s := testutil.Start(t, testutil.Options{Dir: dir})
	tls := authreport.TLSEvent{Domain: "hanoi.gov.vn", Policy: authreport.TLSPolicy{Type: authreport.PolicyNotFound}, MXHost: "mx.hanoi.gov.vn"}
	for i := 0; i < 3; i++ {
		s.App.AuthReports.RecordTLS(context.Background(), tls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.App.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := testutil.Start(t, testutil.Options{Dir: dir})
	counts, err := s2.App.Store.AuthEventCounts(context.Background(), store.ReportTLS, authreport.Day(time.Now()))
	if err != nil || len(counts) != 1 || counts[0].Count != 3 || counts[0].Domain != "hanoi.gov.vn" {
		t.Fatalf("counts after restart: %+v %v", counts, err)
	}
}
