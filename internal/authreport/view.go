package authreport

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"govmail/internal/store"
)

// Line is one line of a received report as operators read it (portal, CLI,
// API): where the mail or session came from, how many, and what happened.
type Line struct {
	Source string `json:"source"` // DMARC: sending IP; TLS: policy and MX
	Count  int64  `json:"count"`
	OK     bool   `json:"ok"`     // passed DMARC / TLS negotiated as asked
	Result string `json:"result"` // "dkim=pass spf=fail → none", "certificate-expired" …
	Detail string `json:"detail,omitempty"`
}

// Lines reads a stored report's body into lines, failures first so that what
// needs attention is at the top.
func Lines(rr *store.ReceivedReport) ([]Line, error) {
	var rows []Line
	switch rr.Kind {
	case store.ReportDMARC:
		var fb Feedback
		if err := json.Unmarshal([]byte(rr.Body), &fb); err != nil {
			return nil, fmt.Errorf("report %d: %w", rr.ID, err)
		}
		for _, r := range fb.Records {
			pe := r.Row.PolicyEvaluated
			row := Line{Source: r.Row.SourceIP, Count: r.Row.Count, OK: pe.DKIM == "pass" || pe.SPF == "pass",
				Result: fmt.Sprintf("dkim=%s spf=%s → %s", pe.DKIM, pe.SPF, pe.Disposition)}
			var d []string
			d = append(d, "From: "+r.Identifiers.HeaderFrom)
			if r.Identifiers.EnvelopeFrom != "" {
				d = append(d, "MAIL FROM: "+r.Identifiers.EnvelopeFrom)
			}
			for _, k := range r.AuthResults.DKIM {
				d = append(d, fmt.Sprintf("DKIM %s (%s): %s", k.Domain, k.Selector, k.Result))
			}
			for _, s := range r.AuthResults.SPF {
				d = append(d, fmt.Sprintf("SPF %s: %s", s.Domain, s.Result))
			}
			row.Detail = strings.Join(d, "; ")
			rows = append(rows, row)
		}
	case store.ReportTLS:
		var r TLSReport
		if err := json.Unmarshal([]byte(rr.Body), &r); err != nil {
			return nil, fmt.Errorf("report %d: %w", rr.ID, err)
		}
		for _, p := range r.Policies {
			src := p.Policy.Type
			if len(p.Policy.MXHost) > 0 {
				src += " " + strings.Join(p.Policy.MXHost, ", ")
			}
			if p.Summary.Successful > 0 {
				rows = append(rows, Line{Source: src, Count: p.Summary.Successful, OK: true, Result: "ok"})
			}
			for _, f := range p.FailureDetails {
				row := Line{Source: src, Count: f.FailedSessionCount, Result: f.ResultType, Detail: f.AdditionalInformation}
				if f.ReceivingMXHostname != "" || f.ReceivingIP != "" {
					row.Source = strings.TrimSpace(f.ReceivingMXHostname + " " + f.ReceivingIP)
				}
				rows = append(rows, row)
			}
		}
	default:
		return nil, fmt.Errorf("report %d: unknown kind %q", rr.ID, rr.Kind)
	}
	// Failures first, then by count.
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	return rows, nil
}

func less(a, b Line) bool {
	if a.OK != b.OK {
		return !a.OK
	}
	return a.Count > b.Count
}
