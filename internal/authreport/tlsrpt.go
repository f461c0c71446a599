package authreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TLSReport is an SMTP TLS report (RFC 8460 4).
type TLSReport struct {
	OrganizationName string         `json:"organization-name"`
	DateRange        TLSDateRange   `json:"date-range"`
	ContactInfo      string         `json:"contact-info"`
	ReportID         string         `json:"report-id"`
	Policies         []PolicyResult `json:"policies"`
}

// TLSDateRange is the reported period, RFC 3339 in UTC.
type TLSDateRange struct {
	Start time.Time `json:"start-datetime"`
	End   time.Time `json:"end-datetime"`
}

// PolicyResult is what happened to the sessions of one policy.
type PolicyResult struct {
	Policy         TLSPolicy    `json:"policy"`
	Summary        TLSSummary   `json:"summary"`
	FailureDetails []TLSFailure `json:"failure-details,omitempty"`
}

// Policy types (RFC 8460 4.4).
const (
	PolicySTS      = "sts"
	PolicyTLSA     = "tlsa"
	PolicyNotFound = "no-policy-found"
)

// TLSPolicy names the policy the sender applied.
type TLSPolicy struct {
	Type   string     `json:"policy-type"`
	String stringList `json:"policy-string,omitempty"`
	Domain string     `json:"policy-domain"`
	MXHost stringList `json:"mx-host,omitempty"`
}

// TLSSummary counts sessions.
type TLSSummary struct {
	Successful int64 `json:"total-successful-session-count"`
	Failed     int64 `json:"total-failure-session-count"`
}

// Result types of failures (RFC 8460 4.6).
const (
	ResultStartTLSNotSupported = "starttls-not-supported"
	ResultHostMismatch         = "certificate-host-mismatch"
	ResultCertExpired          = "certificate-expired"
	ResultCertNotTrusted       = "certificate-not-trusted"
	ResultValidationFailure    = "validation-failure"
	ResultSTSPolicyFetch       = "sts-policy-fetch-error"
	ResultSTSPolicyInvalid     = "sts-policy-invalid"
	ResultSTSWebPKIInvalid     = "sts-webpki-invalid"
	ResultTLSAInvalid          = "tlsa-invalid"
	ResultDNSSECInvalid        = "dnssec-invalid"
	ResultDANERequired         = "dane-required"
)

// TLSFailure is one counted kind of failed session.
type TLSFailure struct {
	ResultType            string `json:"result-type"`
	SendingMTAIP          string `json:"sending-mta-ip,omitempty"`
	ReceivingMXHostname   string `json:"receiving-mx-hostname,omitempty"`
	ReceivingMXHelo       string `json:"receiving-mx-helo,omitempty"`
	ReceivingIP           string `json:"receiving-ip,omitempty"`
	FailedSessionCount    int64  `json:"failed-session-count"`
	AdditionalInformation string `json:"additional-information,omitempty"`
	FailureReasonCode     string `json:"failure-reason-code,omitempty"`
}

// stringList reads a JSON list of strings, or one string: some reporters
// write "mx-host" as a bare string.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*l = ss
	return nil
}

// ParseTLS reads a TLS report (plain JSON; see Extract for gzip) and refuses
// one that cannot be shown: no organisation or report id, a period ending
// before it starts, no policy domain, negative counts.
func ParseTLS(data []byte) (*TLSReport, error) {
	if len(data) > maxDecoded {
		return nil, fmt.Errorf("tls report: %d bytes is more than %d", len(data), maxDecoded)
	}
	var r TLSReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("tls report: %w", err)
	}
	switch {
	case strings.TrimSpace(r.OrganizationName) == "":
		return nil, errors.New("tls report: no organization-name")
	case strings.TrimSpace(r.ReportID) == "":
		return nil, errors.New("tls report: no report-id")
	case r.DateRange.Start.IsZero() || r.DateRange.End.Before(r.DateRange.Start):
		return nil, fmt.Errorf("tls report: date range %s..%s", r.DateRange.Start, r.DateRange.End)
	case len(r.Policies) == 0:
		return nil, errors.New("tls report: no policies")
	case len(r.Policies) > maxPolicies:
		return nil, fmt.Errorf("tls report: %d policies is more than %d", len(r.Policies), maxPolicies)
	}
	r.OrganizationName, r.ReportID = clip(r.OrganizationName), clip(r.ReportID)
	for i := range r.Policies {
		p := &r.Policies[i]
		p.Policy.Domain = strings.ToLower(strings.TrimSuffix(clip(p.Policy.Domain), "."))
		if p.Policy.Domain == "" {
			return nil, fmt.Errorf("tls report: policy %d has no policy-domain", i+1)
		}
		if p.Summary.Successful < 0 || p.Summary.Failed < 0 || p.Summary.Successful > maxCount || p.Summary.Failed > maxCount {
			return nil, fmt.Errorf("tls report: policy %d has negative counts", i+1)
		}
		for _, f := range p.FailureDetails {
			if f.FailedSessionCount < 0 || f.FailedSessionCount > maxCount {
				return nil, fmt.Errorf("tls report: policy %d has negative counts", i+1)
			}
		}
	}
	return &r, nil
}

// Totals counts sessions and failed sessions over all policies.
func (r *TLSReport) Totals() (total, failed int64) {
	for _, p := range r.Policies {
		total += p.Summary.Successful + p.Summary.Failed
		failed += p.Summary.Failed
	}
	return total, failed
}

// Domain is the policy domain the report is about (the first policy's; a
// report covers one domain, RFC 8460 4.3).
func (r *TLSReport) Domain() string {
	if len(r.Policies) == 0 {
		return ""
	}
	return r.Policies[0].Policy.Domain
}
