package queue

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"govmail/internal/authreport"
)

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
		return authreport.ResultTLSAInvalid
	case errors.As(te.err, &he):
		return authreport.ResultHostMismatch
	case errors.As(te.err, &ce) && ce.Reason == x509.Expired:
		return authreport.ResultCertExpired
	case errors.As(te.err, &ua):
		return authreport.ResultCertNotTrusted
	}
	return authreport.ResultValidationFailure
}

// reportTLS hands one outcome to the TLS report counter.
func (q *Queue) reportTLS(ctx context.Context, rt *route, dh *daneHost, mx string, ip net.IP, local, result, info string) {
	if q.onTLS == nil || rt.smarthost != nil {
		return
	}
	o := authreport.TLSEvent{Domain: rt.domain, Policy: authreport.TLSPolicy{Type: authreport.PolicyNotFound}, Result: result,
		MXHost: mx, SendingIP: local, Info: info}
	if ip != nil {
		o.ReceivingIP = ip.String()
	}
	if p := rt.policy; p != nil {
		lines := append([]string{"version: STSv1", "mode: " + p.Mode}, mxLines(p.MX)...)
		lines = append(lines, fmt.Sprintf("max_age: %d", int64(p.MaxAge.Seconds())))
		o.Policy = authreport.TLSPolicy{Type: authreport.PolicySTS, String: lines, MXHost: p.MX}
	}
	if dh != nil || result == authreport.ResultDNSSECInvalid {
		o.Policy = authreport.TLSPolicy{Type: authreport.PolicyTLSA}
		if dh != nil {
			o.Policy.String = dh.all
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
