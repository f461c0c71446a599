// Package mailauth checks every incoming message's SPF (blitiri.com.ar/go/spf),
// DKIM (go-msgauth) and DMARC (our own evaluation of RFC 7489: alignment with
// the organisational domain from the public suffix list, p/sp/pct), and turns
// them into an Authentication-Results header (RFC 8601) and a verdict: accept,
// quarantine (Junk) or reject (550 5.7.1). It never stores or refuses mail
// itself: smtpd acts on the verdict and delivery prepends the header.
package mailauth

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"govmail/internal/address"
	"govmail/internal/dkim"
)

// Resolver is the DNS the checks need; *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Verdict is what the receiving side should do with the message.
type Verdict int

// Verdicts.
const (
	Accept Verdict = iota
	Quarantine
	Reject
)

func (v Verdict) String() string {
	switch v {
	case Quarantine:
		return "quarantine"
	case Reject:
		return "reject"
	}
	return "accept"
}

// Checker runs the checks.
type Checker struct {
	Resolver Resolver // nil: net.DefaultResolver
	// AuthServID names us in Authentication-Results (our hostname).
	AuthServID string
	// Timeout bounds all DNS work of one message (default 20 s).
	Timeout time.Duration
	// MaxSignatures bounds the DKIM signatures verified (default 5): each costs
	// a DNS lookup and a public-key operation an attacker chooses.
	MaxSignatures int
	// Sample decides DMARC pct sampling; nil draws at random. Tests set it.
	Sample func(pct int) bool
}

// Input is what the SMTP transaction tells about a message.
type Input struct {
	IP       net.IP
	Helo     string
	MailFrom string // envelope sender, "" for a bounce
	Message  []byte // header and body as received
}

// DKIMResult is one signature's outcome.
type DKIMResult struct {
	Domain   string
	Selector string
	Result   authres.ResultValue // pass, fail, neutral, temperror, permerror
	Reason   string
}

// Result is the outcome of all checks.
type Result struct {
	SPF        spf.Result
	SPFDomain  string // the domain SPF checked (MAIL FROM's, or HELO's for a bounce)
	DKIM       []DKIMResult
	FromDomain string // header From domain, "" when absent or several
	DMARC      authres.ResultValue
	// Policy is the DMARC policy that applied (after sp and pct); "" without one.
	Policy dmarc.Policy
	// Record is the DMARC record found, at PolicyDomain (the From domain or
	// its organisational domain); nil without one. Aggregate reports need both.
	Record       *dmarc.Record
	PolicyDomain string
	// SPFAligned and DKIMAligned tell whether an aligned SPF or DKIM pass was
	// found (the "policy_evaluated" of an aggregate report).
	SPFAligned, DKIMAligned bool
	Verdict                 Verdict
	// Header is the Authentication-Results field, folded, ending in CRLF.
	Header string
}

// Summary is a one-line form for the transaction log.
func (r *Result) Summary() string {
	var b strings.Builder
	b.WriteString("spf=" + string(r.SPF))
	if len(r.DKIM) == 0 {
		b.WriteString(" dkim=none")
	}
	for _, d := range r.DKIM {
		b.WriteString(" dkim=" + string(d.Result) + "(" + d.Domain + ")")
	}
	b.WriteString(" dmarc=" + string(r.DMARC))
	if r.Policy != "" {
		b.WriteString(" policy=" + string(r.Policy))
	}
	return b.String()
}

// Check runs SPF, DKIM and DMARC on one message.
func (c *Checker) Check(ctx context.Context, in Input) *Result {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var res Resolver = c.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	r := &Result{}

	// SPF (RFC 7208) of MAIL FROM, or of the HELO name for a bounce.
	sender := in.MailFrom
	r.SPFDomain = address.Domain(sender)
	if sender == "" {
		sender = "postmaster@" + in.Helo
		r.SPFDomain = strings.ToLower(in.Helo)
	}
	r.SPF, _ = spf.CheckHostWithSender(in.IP, in.Helo, sender, spf.WithContext(ctx), spf.WithResolver(res))

	// DKIM (RFC 6376).
	maxSig := c.MaxSignatures
	if maxSig <= 0 {
		maxSig = 5
	}
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(in.Message), &msgdkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return res.LookupTXT(ctx, name) },
		MaxVerifications: maxSig,
	})
	if err != nil && !errors.Is(err, msgdkim.ErrTooManySignatures) {
		r.DKIM = append(r.DKIM, DKIMResult{Result: authres.ResultPermError, Reason: err.Error()})
	}
	for _, v := range vs {
		d := DKIMResult{Domain: strings.ToLower(v.Domain), Result: authres.ResultPass}
		d.Selector = selectorOf(in.Message, v.Domain)
		switch {
		case v.Err == nil:
		case msgdkim.IsTempFail(v.Err):
			d.Result, d.Reason = authres.ResultTempError, v.Err.Error()
		case msgdkim.IsPermFail(v.Err):
			d.Result, d.Reason = authres.ResultPermError, v.Err.Error()
		default:
			d.Result, d.Reason = authres.ResultFail, v.Err.Error()
		}
		r.DKIM = append(r.DKIM, d)
	}

	// DMARC (RFC 7489).
	r.FromDomain = dkim.FromDomain(in.Message)
	c.dmarc(ctx, res, r)
	r.Header = c.header(r, in)
	return r
}

// dmarc evaluates the From domain's policy against aligned SPF and DKIM.
func (c *Checker) dmarc(ctx context.Context, res Resolver, r *Result) {
	if r.FromDomain == "" {
		// No single From address: nothing to align with (RFC 7489 6.6.1).
		r.DMARC = authres.ResultPermError
		return
	}
	org := OrgDomain(r.FromDomain)
	lookup := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) { return res.LookupTXT(ctx, name) }}
	rec, err := dmarc.LookupWithOptions(r.FromDomain, lookup)
	policy := dmarc.Policy("")
	r.PolicyDomain = r.FromDomain
	if errors.Is(err, dmarc.ErrNoPolicy) && org != r.FromDomain {
		rec, err = dmarc.LookupWithOptions(org, lookup)
		r.PolicyDomain = org
		if err == nil {
			policy = rec.SubdomainPolicy
		}
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		r.DMARC = authres.ResultNone
		return
	case dmarc.IsTempFail(err):
		r.DMARC = authres.ResultTempError
		return
	case err != nil:
		r.DMARC = authres.ResultPermError
		return
	}
	r.Record = rec
	if policy == "" {
		policy = rec.Policy
	}
	aligned := func(d string, mode dmarc.AlignmentMode) bool {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if mode == dmarc.AlignmentStrict {
			return d == r.FromDomain
		}
		return d != "" && OrgDomain(d) == org
	}
	r.SPFAligned = r.SPF == spf.Pass && aligned(r.SPFDomain, rec.SPFAlignment)
	for _, d := range r.DKIM {
		if d.Result == authres.ResultPass && aligned(d.Domain, rec.DKIMAlignment) {
			r.DKIMAligned = true
		}
	}
	if r.SPFAligned || r.DKIMAligned {
		r.DMARC = authres.ResultPass
		return
	}
	r.DMARC = authres.ResultFail
	// pct: the policy applies to that share of failing mail; the rest gets the
	// next milder policy (RFC 7489 6.6.4).
	if rec.Percent != nil && *rec.Percent < 100 {
		sample := c.Sample
		if sample == nil {
			sample = func(pct int) bool { return rand.IntN(100) < pct }
		}
		if !sample(*rec.Percent) {
			switch policy {
			case dmarc.PolicyReject:
				policy = dmarc.PolicyQuarantine
			case dmarc.PolicyQuarantine:
				policy = dmarc.PolicyNone
			}
		}
	}
	r.Policy = policy
	switch policy {
	case dmarc.PolicyReject:
		r.Verdict = Reject
	case dmarc.PolicyQuarantine:
		r.Verdict = Quarantine
	}
}

func (c *Checker) header(r *Result, in Input) string {
	results := []authres.Result{&authres.SPFResult{Value: authres.ResultValue(r.SPF), From: in.MailFrom, Helo: in.Helo}}
	if in.MailFrom == "" {
		results[0] = &authres.SPFResult{Value: authres.ResultValue(r.SPF), Helo: in.Helo}
	}
	if len(r.DKIM) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range r.DKIM {
		results = append(results, &authres.DKIMResult{Value: d.Result, Domain: d.Domain, Reason: shortReason(d.Reason)})
	}
	dm := &authres.DMARCResult{Value: r.DMARC, From: r.FromDomain}
	if r.Policy != "" {
		dm.Reason = "p=" + string(r.Policy)
	}
	results = append(results, dm)
	v := authres.Format(c.AuthServID, results)
	// Fold between results so that the field stays within line limits.
	return "Authentication-Results: " + strings.ReplaceAll(v, "; ", ";\r\n\t") + "\r\n"
}

func shortReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// OrgDomain is the organisational domain (RFC 7489 3.2): the registrable
// domain under the public suffix list, e.g. sonla.gov.vn for mail.sonla.gov.vn.
func OrgDomain(d string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if o, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return o
	}
	return d
}

// selectorOf finds the s= of the first signature with d=domain, for the
// header (go-msgauth does not report it).
func selectorOf(raw []byte, domain string) string {
	hdr := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		hdr = raw[:i]
	}
	unfolded := strings.ReplaceAll(strings.ReplaceAll(string(hdr), "\r\n\t", " "), "\r\n ", " ")
	for _, l := range strings.Split(unfolded, "\r\n") {
		if !strings.HasPrefix(strings.ToLower(l), "dkim-signature:") {
			continue
		}
		var d, s string
		for _, tag := range strings.Split(l[len("dkim-signature:"):], ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(tag), "=")
			switch strings.TrimSpace(k) {
			case "d":
				d = strings.Join(strings.Fields(v), "")
			case "s":
				s = strings.Join(strings.Fields(v), "")
			}
		}
		if strings.EqualFold(d, domain) {
			return s
		}
	}
	return ""
}
