package queue

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
)

// TLS result types of RFC 8460 4.6 the queue can tell apart.
const (
	TLSStartTLSNotSupported = "starttls-not-supported"
	TLSHostMismatch         = "certificate-host-mismatch"
	TLSCertExpired          = "certificate-expired"
	TLSCertNotTrusted       = "certificate-not-trusted"
	TLSValidationFailure    = "validation-failure"
	TLSSTSPolicyFetch       = "sts-policy-fetch-error"
	TLSTLSAInvalid          = "tlsa-invalid"
	TLSDNSSECInvalid        = "dnssec-invalid"
)

// TLSOutcome is the TLS result of one attempt to open a session with a
// recipient domain's MX (or of a policy that could not be had), for the TLS
// reports that domain asks for (RFC 8460). Sessions through the smarthost are
// not reported: the province's gateway is not the recipient's MX.
type TLSOutcome struct {
	Domain     string
	PolicyType string   // "sts", "tlsa" or "no-policy-found"
	Policy     []string // the policy's lines (MTA-STS) or TLSA records (DANE)
	PolicyMX   []string // the MX patterns of an MTA-STS policy
	// Result is "" when the session was encrypted as the policy asked, else
	// one of the result types above.
	Result      string
	MXHost      string
	ReceivingIP string
	SendingIP   string
	Info        string
}

// tlsResultType names a TLS failure in RFC 8460's terms.
func tlsResultType(te *tlsError) string {
	if te.kind != "" {
		return te.kind
	}
	var he x509.HostnameError
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.Is(te.err, errTLSAMismatch):
		return TLSTLSAInvalid
	case errors.As(te.err, &he):
		return TLSHostMismatch
	case errors.As(te.err, &ce) && ce.Reason == x509.Expired:
		return TLSCertExpired
	case errors.As(te.err, &ua):
		return TLSCertNotTrusted
	}
	return TLSValidationFailure
}

// reportTLS hands one outcome to the TLS report counter.
func (q *Queue) reportTLS(ctx context.Context, rt *route, dh *daneHost, mx string, ip net.IP, local, result, info string) {
	if q.onTLS == nil || rt.smarthost != nil {
		return
	}
	o := TLSOutcome{Domain: rt.domain, PolicyType: "no-policy-found", Result: result, MXHost: mx, SendingIP: local, Info: info}
	if ip != nil {
		o.ReceivingIP = ip.String()
	}
	if p := rt.policy; p != nil {
		o.PolicyType = "sts"
		o.Policy = append([]string{"version: STSv1", "mode: " + p.Mode}, mxLines(p.MX)...)
		o.Policy = append(o.Policy, fmt.Sprintf("max_age: %d", int64(p.MaxAge.Seconds())))
		o.PolicyMX = p.MX
	}
	if dh != nil || result == TLSDNSSECInvalid {
		o.PolicyType, o.PolicyMX, o.Policy = "tlsa", nil, nil
		if dh != nil {
			o.Policy = dh.all
		}
	}
	q.onTLS(ctx, o)
}

func mxLines(mx []string) []string {
	out := make([]string, len(mx))
	for i, m := range mx {
		out[i] = "mx: " + m
	}
	return out
}
