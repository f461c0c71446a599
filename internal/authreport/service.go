package authreport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/dmarc"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/mailauth"
	"govmail/internal/store"
)

// Resolver is the DNS the service needs to find where reports go.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Service counts outcomes, sends the daily reports and takes in received ones.
type Service struct {
	Store    store.AuthReportStore
	Resolver Resolver
	Clock    clock.Clock
	// Submit queues a message for delivery (the outbound queue, which signs it
	// with DKIM as RFC 8460 5.3 asks).
	Submit func(ctx context.Context, from string, to []string, raw []byte) error
	// HTTP posts TLS reports to https: destinations; nil: a client with a
	// 30-second timeout.
	HTTP *http.Client
	// Hostname names us as the reporting organisation and the submitter.
	Hostname string
	// From is the address our reports come from (postmaster of our first domain).
	From string
	// Domains are ours: their outcomes are not reported, as the report would
	// only come back to us.
	Domains []string
	Logger  *slog.Logger
	// KeepDays is how long counts are kept when no report could be sent for
	// them (default 14).
	KeepDays int

	// Counts wait in memory until Flush (every few seconds, at Run and at
	// shutdown): a map increment on the mail path instead of a database
	// write per message. A crash loses the counts of those seconds, which
	// makes a statistical report slightly short, never loses mail.
	mu      sync.Mutex
	pending map[store.AuthEvent]int64 // Count zero in the key
	// flushing serialises Flush, so that a last Flush at shutdown waits for
	// one in progress instead of racing the store's close.
	flushing sync.Mutex
}

// Day is the UTC day of t, the unit both RFCs report in.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Service) ours(domain string) bool {
	for _, d := range s.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// dmarcKey is what makes two received messages one row of our report.
type dmarcKey struct {
	Policy      PolicyPublished `json:"p"`
	Row         Row             `json:"r"`
	Identifiers Identifiers     `json:"i"`
	Auth        AuthResults     `json:"a"`
}

// RecordDMARC counts the DMARC outcome of one received message. Mail without
// a DMARC record, or from our own domains, is not counted: no one asked for a
// report of it. disposition is what we did: none, quarantine or reject.
func (s *Service) RecordDMARC(ctx context.Context, sourceIP, envelopeFrom string, r *mailauth.Result, disposition string) {
	if r == nil || r.Record == nil || len(r.Record.ReportURIAggregate) == 0 || s.ours(r.PolicyDomain) {
		return
	}
	k := dmarcKey{
		Policy: published(r.PolicyDomain, r.Record),
		Row: Row{SourceIP: sourceIP, PolicyEvaluated: PolicyEvaluated{Disposition: disposition,
			DKIM: passFail(r.DKIMAligned), SPF: passFail(r.SPFAligned)}},
		Identifiers: Identifiers{HeaderFrom: r.FromDomain, EnvelopeFrom: address.Domain(envelopeFrom)},
	}
	for _, d := range r.DKIM {
		if d.Domain != "" {
			k.Auth.DKIM = append(k.Auth.DKIM, DKIMAuth{Domain: d.Domain, Selector: d.Selector, Result: string(d.Result)})
		}
	}
	scope := "mfrom"
	if envelopeFrom == "" {
		scope = "helo"
	}
	k.Auth.SPF = []SPFAuth{{Domain: r.SPFDomain, Scope: scope, Result: strings.ToLower(string(r.SPF))}}
	s.count(ctx, store.ReportDMARC, r.PolicyDomain, k)
}

func published(domain string, rec *dmarc.Record) PolicyPublished {
	p := PolicyPublished{Domain: domain, ADKIM: string(rec.DKIMAlignment), ASPF: string(rec.SPFAlignment),
		P: string(rec.Policy), SP: string(rec.SubdomainPolicy), Pct: rec.Percent}
	if p.ADKIM == "" {
		p.ADKIM = "r"
	}
	if p.ASPF == "" {
		p.ASPF = "r"
	}
	return p
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

// TLSEvent is the TLS outcome of one outbound session (or of a policy that
// could not be had), for the recipient domain's TLS report.
type TLSEvent struct {
	Domain string
	Policy TLSPolicy // Type, and for MTA-STS the policy lines and mx patterns
	// Result is "" for a session that negotiated TLS as its policy asked,
	// else a result type (ResultStartTLSNotSupported …).
	Result      string
	MXHost      string
	ReceivingIP string
	SendingIP   string
	Info        string // the error text, for additional-information
}

type tlsKey struct {
	Policy  TLSPolicy   `json:"p"`
	Failure *TLSFailure `json:"f,omitempty"`
}

// RecordTLS counts one outbound TLS outcome. Only domains that are not ours
// are counted; whether the domain wants reports is asked when sending.
func (s *Service) RecordTLS(ctx context.Context, e TLSEvent) {
	e.Domain = strings.ToLower(strings.TrimSuffix(e.Domain, "."))
	if e.Domain == "" || s.ours(e.Domain) {
		return
	}
	e.Policy.Domain = e.Domain
	k := tlsKey{Policy: e.Policy}
	if e.Result != "" {
		info := e.Info
		if len(info) > 200 {
			info = strings.ToValidUTF8(info[:200], "")
		}
		k.Failure = &TLSFailure{ResultType: e.Result, SendingMTAIP: e.SendingIP, ReceivingMXHostname: e.MXHost,
			ReceivingIP: e.ReceivingIP, AdditionalInformation: info}
	}
	s.count(ctx, store.ReportTLS, e.Domain, k)
}

func (s *Service) count(_ context.Context, kind, domain string, key any) {
	b, err := json.Marshal(key)
	if err != nil {
		s.log().Warn("auth report count", "kind", kind, "domain", domain, "err", err)
		return
	}
	k := store.AuthEvent{Kind: kind, Day: Day(s.Clock.Now()), Domain: strings.ToLower(domain), Key: string(b)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[store.AuthEvent]int64{}
	}
	s.pending[k]++
}

// Flush writes the counts waiting in memory to the store. On failure they
// are kept for the next Flush.
func (s *Service) Flush(ctx context.Context) error {
	s.flushing.Lock()
	defer s.flushing.Unlock()
	s.mu.Lock()
	batch := make([]store.AuthEvent, 0, len(s.pending))
	for k, n := range s.pending {
		k.Count = n
		batch = append(batch, k)
	}
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := s.Store.AddAuthEvents(ctx, batch); err != nil {
		s.mu.Lock()
		if s.pending == nil {
			s.pending = map[store.AuthEvent]int64{}
		}
		for _, e := range batch {
			n := e.Count
			e.Count = 0
			s.pending[e] += n
		}
		s.mu.Unlock()
		return fmt.Errorf("auth report counts: %w", err)
	}
	return nil
}

// Sent is what one run of the daily job did.
type Sent struct {
	Reports  int // report messages or posts handed on
	NoReport int // domains counted that publish no destination
	Failed   int
}

// Run sends the reports of every complete UTC day not sent yet, each domain's
// once however many nodes or runs (store claims), and forgets old counts.
func (s *Service) Run(ctx context.Context) (Sent, error) {
	return s.RunAt(ctx, s.Clock.Now())
}

// RunAt is Run as if the time were now.
func (s *Service) RunAt(ctx context.Context, now time.Time) (Sent, error) {
	var out Sent
	if err := s.Flush(ctx); err != nil {
		return out, err
	}
	today := Day(now)
	for _, kind := range []string{store.ReportDMARC, store.ReportTLS} {
		days, err := s.Store.AuthEventDays(ctx, kind, today)
		if err != nil {
			return out, err
		}
		for _, day := range days {
			counts, err := s.Store.AuthEventCounts(ctx, kind, day)
			if err != nil {
				return out, err
			}
			byDomain := map[string][]store.AuthEventCount{}
			var domains []string
			for _, c := range counts {
				if _, ok := byDomain[c.Domain]; !ok {
					domains = append(domains, c.Domain)
				}
				byDomain[c.Domain] = append(byDomain[c.Domain], c)
			}
			for _, d := range domains {
				mine := false
				claim := func() (bool, error) {
					ok, err := s.Store.ClaimAuthReport(ctx, kind, day, d)
					mine = ok
					return ok, err
				}
				n, err := s.send(ctx, kind, day, d, byDomain[d], claim)
				if err != nil && n == 0 && mine {
					// Claimed but handed to no one: the next run tries again.
					if uerr := s.Store.UnclaimAuthReport(ctx, kind, day, d); uerr != nil {
						s.log().Error("auth report claim not taken back", "kind", kind, "day", day, "domain", d, "err", uerr)
					}
				}
				switch {
				case errors.Is(err, errClaimed):
				case err != nil:
					// Not claimed (or the claim taken back) when nothing
					// went: the next run, an hour later, tries again.
					out.Failed++
					s.log().Error("auth report not sent", "kind", kind, "day", day, "domain", d, "err", err)
				case n == 0:
					out.NoReport++
				default:
					out.Reports += n
					s.log().Info("auth report sent", "kind", kind, "day", day, "domain", d, "destinations", n)
				}
			}
		}
	}
	keep := s.KeepDays
	if keep <= 0 {
		keep = 14
	}
	if _, err := s.Store.PurgeAuthEvents(ctx, Day(now.AddDate(0, 0, -keep))); err != nil {
		return out, err
	}
	return out, nil
}

// errClaimed: the report was sent before, by this node or another.
var errClaimed = errors.New("report already sent")

// send builds one domain's report of one day, finds the destinations it
// publishes now, claims the report (so that it goes once) and sends it to
// each; it returns how many took it. A report is claimed only once its
// destinations are known, so a DNS failure leaves it for the next run.
func (s *Service) send(ctx context.Context, kind, day, domain string, counts []store.AuthEventCount, claim func() (bool, error)) (int, error) {
	claimed := func() error {
		ok, err := claim()
		if err == nil && !ok {
			err = errClaimed
		}
		return err
	}
	begin, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, err
	}
	end := begin.Add(24*time.Hour - time.Second)
	id := reportID(kind, day, domain, s.Hostname)
	if kind == store.ReportDMARC {
		fb, err := s.BuildDMARC(domain, id, begin, end, counts)
		if err != nil {
			return 0, err
		}
		to, err := s.dmarcDestinations(ctx, domain)
		if err != nil {
			return 0, err
		}
		if err := claimed(); err != nil || len(to) == 0 {
			return 0, err
		}
		data, err := fb.Marshal()
		if err != nil {
			return 0, err
		}
		m := &reportMail{From: s.From, Date: s.Clock.Now(), MessageID: id + "@" + s.Hostname,
			Subject:  fmt.Sprintf("Report Domain: %s Submitter: %s Report-ID: <%s>", domain, s.Hostname, id),
			Text:     reportText("DMARC", domain, day),
			FileName: fmt.Sprintf("%s!%s!%d!%d.xml.gz", s.Hostname, domain, begin.Unix(), end.Unix()),
			FileType: "application/gzip", Data: data}
		return s.mailAll(ctx, m, to)
	}
	r, err := s.BuildTLS(domain, id, begin, end, counts)
	if err != nil {
		return 0, err
	}
	mailto, posts, err := s.tlsDestinations(ctx, domain)
	if err != nil {
		return 0, err
	}
	if err := claimed(); err != nil {
		return 0, err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	sent := 0
	if len(mailto) > 0 {
		m := &reportMail{From: s.From, Date: s.Clock.Now(), MessageID: id + "@" + s.Hostname,
			Subject:    fmt.Sprintf("Report Domain: %s Submitter: %s Report-ID: <%s>", domain, s.Hostname, id),
			Extra:      map[string]string{"TLS-Report-Domain": domain, "TLS-Report-Submitter": s.Hostname},
			ReportType: "tlsrpt", Text: reportText("TLS (RFC 8460)", domain, day),
			FileName: fmt.Sprintf("%s!%s!%d!%d!%s.json.gz", s.Hostname, domain, begin.Unix(), end.Unix(), id),
			FileType: "application/tlsrpt+gzip", Data: data}
		n, err := s.mailAll(ctx, m, mailto)
		if err != nil {
			return n, err
		}
		sent += n
	}
	var errs []error
	for _, u := range posts {
		if err := s.post(ctx, u, data); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func reportText(what, domain, day string) string {
	return fmt.Sprintf("Báo cáo %s tổng hợp về tên miền %s, ngày %s (giờ UTC), do hệ thống thư điện tử gửi tự động.\r\n\r\n"+
		"This is an automated %s aggregate report about %s for %s (UTC).\r\n", what, domain, day, what, domain, day)
}

// mailAll submits m to each address, one message each so that one address
// over its size limit does not hold the others.
func (s *Service) mailAll(ctx context.Context, m *reportMail, to []string) (int, error) {
	n := 0
	for _, rcpt := range to {
		m.To = rcpt
		raw, err := m.compose()
		if err != nil {
			return n, err
		}
		if err := s.Submit(ctx, s.From, []string{rcpt}, raw); err != nil {
			return n, fmt.Errorf("submit report to %s: %w", rcpt, err)
		}
		n++
	}
	return n, nil
}

// post sends a TLS report to an https: destination (RFC 8460 5.4).
func (s *Service) post(ctx context.Context, u string, data []byte) error {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &gz)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/tlsrpt+gzip")
	c := s.HTTP
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post tls report to %s: %w", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post tls report to %s: %s", u, resp.Status)
	}
	return nil
}

// reportID is the same for the same report, so a receiver drops a repeat.
func reportID(kind, day, domain, host string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + day + "\x00" + domain + "\x00" + host))
	return day + "." + hex.EncodeToString(sum[:8])
}

// BuildDMARC turns a day's counts for one policy domain into a report.
func (s *Service) BuildDMARC(domain, id string, begin, end time.Time, counts []store.AuthEventCount) (*Feedback, error) {
	fb := &Feedback{Version: "1.0", Metadata: Metadata{OrgName: s.Hostname, Email: s.From, ReportID: id,
		DateRange: DateRange{Begin: begin.Unix(), End: end.Unix()}}}
	for _, c := range counts {
		var k dmarcKey
		if err := json.Unmarshal([]byte(c.Key), &k); err != nil {
			return nil, fmt.Errorf("dmarc count of %s: %w", domain, err)
		}
		// The record in force at the last message counted is the one reported.
		fb.Policy = k.Policy
		k.Row.Count = c.Count
		fb.Records = append(fb.Records, Record{Row: k.Row, Identifiers: k.Identifiers, AuthResults: k.Auth})
	}
	fb.Policy.Domain = domain
	return fb, nil
}

// BuildTLS turns a day's counts for one recipient domain into a report.
func (s *Service) BuildTLS(domain, id string, begin, end time.Time, counts []store.AuthEventCount) (*TLSReport, error) {
	r := &TLSReport{OrganizationName: s.Hostname, ContactInfo: s.From, ReportID: id,
		DateRange: TLSDateRange{Start: begin.UTC(), End: end.UTC()}}
	idx := map[string]int{}
	for _, c := range counts {
		var k tlsKey
		if err := json.Unmarshal([]byte(c.Key), &k); err != nil {
			return nil, fmt.Errorf("tls count of %s: %w", domain, err)
		}
		pk, _ := json.Marshal(k.Policy)
		i, ok := idx[string(pk)]
		if !ok {
			i = len(r.Policies)
			idx[string(pk)] = i
			r.Policies = append(r.Policies, PolicyResult{Policy: k.Policy})
		}
		p := &r.Policies[i]
		if k.Failure == nil {
			p.Summary.Successful += c.Count
			continue
		}
		p.Summary.Failed += c.Count
		f := *k.Failure
		f.FailedSessionCount = c.Count
		p.FailureDetails = append(p.FailureDetails, f)
	}
	for i := range r.Policies {
		sort.SliceStable(r.Policies[i].FailureDetails, func(a, b int) bool {
			return r.Policies[i].FailureDetails[a].FailedSessionCount > r.Policies[i].FailureDetails[b].FailedSessionCount
		})
	}
	return r, nil
}

// dmarcDestinations reads the domain's rua= now (RFC 7489 7.2: the record at
// the time of sending) and keeps the mailto: addresses whose domain agreed to
// take reports for it (7.1, the _report._dmarc record).
func (s *Service) dmarcDestinations(ctx context.Context, domain string) ([]string, error) {
	rec, err := dmarc.LookupWithOptions(domain, &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) {
		return s.Resolver.LookupTXT(ctx, name)
	}})
	if errors.Is(err, dmarc.ErrNoPolicy) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dmarc record of %s: %w", domain, err)
	}
	var out []string
	for _, uri := range rec.ReportURIAggregate {
		addr, ok := mailtoAddress(uri)
		if !ok {
			s.log().Info("dmarc rua not mailto: skipped", "domain", domain, "rua", uri)
			continue
		}
		rd := address.Domain(addr)
		if mailauth.OrgDomain(rd) != mailauth.OrgDomain(domain) && !s.externalAllowed(ctx, domain, rd) {
			s.log().Warn("dmarc rua in another domain that did not agree to take reports (RFC 7489 7.1)", "domain", domain, "rua", addr)
			continue
		}
		out = append(out, addr)
	}
	return out, nil
}

func (s *Service) externalAllowed(ctx context.Context, domain, rd string) bool {
	txts, err := s.Resolver.LookupTXT(ctx, domain+"._report._dmarc."+rd)
	if err != nil {
		return false
	}
	for _, t := range txts {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(t)), "v=dmarc1") {
			return true
		}
	}
	return false
}

// tlsDestinations reads the domain's TLSRPT record (RFC 8460 3): exactly one
// record starting v=TLSRPTv1, with rua= a comma-separated list of mailto: and
// https: URIs.
func (s *Service) tlsDestinations(ctx context.Context, domain string) (mailto, posts []string, err error) {
	txts, err := s.Resolver.LookupTXT(ctx, "_smtp._tls."+domain)
	if err != nil {
		if isNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("tlsrpt record of %s: %w", domain, err)
	}
	var recs []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=TLSRPTv1;") || t == "v=TLSRPTv1" {
			recs = append(recs, t)
		}
	}
	if len(recs) != 1 {
		return nil, nil, nil // none, or several: RFC 8460 3 says use none
	}
	for _, f := range strings.Split(recs[0], ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || strings.TrimSpace(k) != "rua" {
			continue
		}
		for _, uri := range strings.Split(v, ",") {
			uri = strings.TrimSpace(uri)
			if addr, ok := mailtoAddress(uri); ok {
				mailto = append(mailto, addr)
			} else if strings.HasPrefix(strings.ToLower(uri), "https://") {
				posts = append(posts, uri)
			}
		}
	}
	return mailto, posts, nil
}

// mailtoAddress reads "mailto:addr" with an optional "!size" (RFC 7489 6.2).
func mailtoAddress(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(uri), "mailto:")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(rest, '!'); i >= 0 {
		rest = rest[:i]
	}
	addr, err := url.PathUnescape(rest)
	if err != nil || !strings.Contains(addr, "@") || strings.ContainsAny(addr, " <>\r\n") {
		return "", false
	}
	return addr, true
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// Intake parses the reports a received message carries and stores each;
// a report received before (same kind, reporter and id) is not stored again.
// It returns how many were new.
func (s *Service) Intake(ctx context.Context, raw []byte) (int, error) {
	found, err := Extract(raw)
	if err != nil && len(found) == 0 {
		return 0, err
	}
	now := s.Clock.Now()
	saved := 0
	for _, f := range found {
		rr := &store.ReceivedReport{Kind: f.Kind, ReceivedAt: now}
		var body []byte
		switch f.Kind {
		case store.ReportDMARC:
			fb := f.DMARC
			rr.Org, rr.ReportID, rr.Domain = fb.Metadata.OrgName, fb.Metadata.ReportID, fb.Policy.Domain
			rr.Begin, rr.End = time.Unix(fb.Metadata.DateRange.Begin, 0).UTC(), time.Unix(fb.Metadata.DateRange.End, 0).UTC()
			rr.Total, rr.Failed = fb.Totals()
			body, err = json.Marshal(fb)
		case store.ReportTLS:
			r := f.TLS
			rr.Org, rr.ReportID, rr.Domain = r.OrganizationName, r.ReportID, r.Domain()
			rr.Begin, rr.End = r.DateRange.Start.UTC(), r.DateRange.End.UTC()
			rr.Total, rr.Failed = r.Totals()
			body, err = json.Marshal(r)
		}
		if err != nil {
			return saved, err
		}
		rr.Body = string(body)
		switch err := s.Store.SaveReceivedReport(ctx, rr); {
		case errors.Is(err, store.ErrExists):
			s.log().Info("report received again; kept the first", "kind", rr.Kind, "org", rr.Org, "id", rr.ReportID)
		case err != nil:
			return saved, err
		default:
			saved++
			s.log().Info("report received", "kind", rr.Kind, "org", rr.Org, "domain", rr.Domain,
				"total", rr.Total, "failed", rr.Failed, "begin", rr.Begin.Format(time.RFC3339))
		}
	}
	return saved, nil
}
