// Package authreport makes, sends, receives and reads the two kinds of report
// mail operators exchange about authentication (issue 5, part 4):
//
//   - DMARC aggregate reports (RFC 7489 7.2 and appendix C): XML, gzip'd, one
//     per policy domain and UTC day, built from the DMARC outcomes of the mail
//     we received;
//   - SMTP TLS reports (RFC 8460): JSON, gzip'd, one per recipient domain and
//     UTC day, built from the TLS outcomes of the mail we sent.
//
// No maintained Go library covers either format, so the types here are our
// own, kept to what the RFCs define; the parsers are fuzzed. Outcomes are
// counted in memory and added to the store (store.AuthReportStore) in batches,
// so that nodes sharing a database add into the same counts and a clean stop
// loses none; the job here turns each finished day's counts into mail.
package authreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Feedback is a DMARC aggregate report (RFC 7489 appendix C).
type Feedback struct {
	XMLName  xml.Name        `xml:"feedback" json:"-"`
	Version  string          `xml:"version,omitempty" json:"version,omitempty"`
	Metadata Metadata        `xml:"report_metadata" json:"report_metadata"`
	Policy   PolicyPublished `xml:"policy_published" json:"policy_published"`
	Records  []Record        `xml:"record" json:"records"`
}

// Metadata says who reports and for which period.
type Metadata struct {
	OrgName      string    `xml:"org_name" json:"org_name"`
	Email        string    `xml:"email" json:"email"`
	ExtraContact string    `xml:"extra_contact_info,omitempty" json:"extra_contact_info,omitempty"`
	ReportID     string    `xml:"report_id" json:"report_id"`
	DateRange    DateRange `xml:"date_range" json:"date_range"`
	Errors       []string  `xml:"error,omitempty" json:"errors,omitempty"`
}

// DateRange is in seconds since the epoch, UTC.
type DateRange struct {
	Begin int64 `xml:"begin" json:"begin"`
	End   int64 `xml:"end" json:"end"`
}

// PolicyPublished is the DMARC record the reporter found.
type PolicyPublished struct {
	Domain string `xml:"domain" json:"domain"`
	ADKIM  string `xml:"adkim,omitempty" json:"adkim,omitempty"`
	ASPF   string `xml:"aspf,omitempty" json:"aspf,omitempty"`
	P      string `xml:"p" json:"p"`
	SP     string `xml:"sp,omitempty" json:"sp,omitempty"`
	Pct    *int   `xml:"pct,omitempty" json:"pct,omitempty"`
	FO     string `xml:"fo,omitempty" json:"fo,omitempty"`
}

// Record is one row of counted messages with the same outcome.
type Record struct {
	Row         Row         `xml:"row" json:"row"`
	Identifiers Identifiers `xml:"identifiers" json:"identifiers"`
	AuthResults AuthResults `xml:"auth_results" json:"auth_results"`
}

// Row is the source and what the receiver did.
type Row struct {
	SourceIP        string          `xml:"source_ip" json:"source_ip"`
	Count           int64           `xml:"count" json:"count"`
	PolicyEvaluated PolicyEvaluated `xml:"policy_evaluated" json:"policy_evaluated"`
}

// PolicyEvaluated is the disposition and the aligned DKIM and SPF outcomes.
type PolicyEvaluated struct {
	Disposition string   `xml:"disposition" json:"disposition"` // none, quarantine, reject
	DKIM        string   `xml:"dkim" json:"dkim"`               // pass, fail
	SPF         string   `xml:"spf" json:"spf"`                 // pass, fail
	Reasons     []Reason `xml:"reason,omitempty" json:"reasons,omitempty"`
}

// Reason explains a disposition other than the policy's.
type Reason struct {
	Type    string `xml:"type" json:"type"`
	Comment string `xml:"comment,omitempty" json:"comment,omitempty"`
}

// Identifiers are the domains of the message.
type Identifiers struct {
	EnvelopeTo   string `xml:"envelope_to,omitempty" json:"envelope_to,omitempty"`
	EnvelopeFrom string `xml:"envelope_from,omitempty" json:"envelope_from,omitempty"`
	HeaderFrom   string `xml:"header_from" json:"header_from"`
}

// AuthResults are the raw, unaligned DKIM and SPF results.
type AuthResults struct {
	DKIM []DKIMAuth `xml:"dkim,omitempty" json:"dkim,omitempty"`
	SPF  []SPFAuth  `xml:"spf" json:"spf"`
}

// DKIMAuth is one signature's result.
type DKIMAuth struct {
	Domain      string `xml:"domain" json:"domain"`
	Selector    string `xml:"selector,omitempty" json:"selector,omitempty"`
	Result      string `xml:"result" json:"result"`
	HumanResult string `xml:"human_result,omitempty" json:"human_result,omitempty"`
}

// SPFAuth is the SPF result.
type SPFAuth struct {
	Domain string `xml:"domain" json:"domain"`
	Scope  string `xml:"scope,omitempty" json:"scope,omitempty"`
	Result string `xml:"result" json:"result"`
}

// Limits on what a received report may hold: a report is data from anyone
// who can send us mail.
const (
	maxRecords   = 100_000
	maxPolicies  = 10_000
	maxDecoded   = 32 << 20 // bytes of XML or JSON after decompression
	maxFieldText = 1024
	// maxCount bounds one count, so that sums cannot overflow.
	maxCount = 1 << 40
)

// ParseDMARC reads a DMARC aggregate report (plain XML; see Extract for the
// compressed forms). It accepts the reports of the big reporters, which add a
// namespace (DMARC-bis) or leave optional fields out, and refuses what cannot
// be shown: no reporter, no report id, no domain, a period that ends before it
// begins, negative counts.
func ParseDMARC(data []byte) (*Feedback, error) {
	if len(data) > maxDecoded {
		return nil, fmt.Errorf("dmarc report: %d bytes is more than %d", len(data), maxDecoded)
	}
	var fb Feedback
	dec := xml.NewDecoder(bytes.NewReader(data))
	// Reports are UTF-8 or ASCII; a declared other charset is read as is
	// rather than refused (the fields we show are ASCII domain names and numbers).
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&fb); err != nil {
		return nil, fmt.Errorf("dmarc report: %w", err)
	}
	m := &fb.Metadata
	switch {
	case strings.TrimSpace(m.OrgName) == "":
		return nil, errors.New("dmarc report: no org_name")
	case strings.TrimSpace(m.ReportID) == "":
		return nil, errors.New("dmarc report: no report_id")
	case strings.TrimSpace(fb.Policy.Domain) == "":
		return nil, errors.New("dmarc report: no policy_published domain")
	case m.DateRange.End < m.DateRange.Begin || m.DateRange.Begin < 0:
		return nil, fmt.Errorf("dmarc report: date range %d..%d", m.DateRange.Begin, m.DateRange.End)
	case len(fb.Records) > maxRecords:
		return nil, fmt.Errorf("dmarc report: %d records is more than %d", len(fb.Records), maxRecords)
	}
	m.OrgName, m.ReportID = clip(m.OrgName), clip(m.ReportID)
	fb.Policy.Domain = strings.ToLower(strings.TrimSuffix(clip(fb.Policy.Domain), "."))
	for i := range fb.Records {
		r := &fb.Records[i].Row
		if r.Count < 0 || r.Count > maxCount {
			return nil, fmt.Errorf("dmarc report: record %d has count %d", i+1, r.Count)
		}
		r.SourceIP = strings.TrimSpace(r.SourceIP)
		if net.ParseIP(r.SourceIP) == nil {
			return nil, fmt.Errorf("dmarc report: record %d: source_ip %q is not an address", i+1, clip(r.SourceIP))
		}
	}
	return &fb, nil
}

// Totals counts the messages of a report and those that failed DMARC (neither
// aligned DKIM nor aligned SPF passed).
func (fb *Feedback) Totals() (total, failed int64) {
	for _, r := range fb.Records {
		total += r.Row.Count
		pe := r.Row.PolicyEvaluated
		if pe.DKIM != "pass" && pe.SPF != "pass" {
			failed += r.Row.Count
		}
	}
	return total, failed
}

// Marshal writes the report as XML with its declaration.
func (fb *Feedback) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	if err := enc.Encode(fb); err != nil {
		return nil, fmt.Errorf("dmarc report: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxFieldText {
		s = s[:maxFieldText]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
