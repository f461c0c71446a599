package authreport

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"govmail/internal/store"
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
