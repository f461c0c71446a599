// Package queue owns outbound delivery: mail submitted for remote recipients is
// kept in the store's persistent queue, DKIM-signed once at submission, and
// delivered by workers that find the destination (MX, else A/AAAA; or the
// province's smarthost), use STARTTLS whenever offered (and require verified TLS
// where the domain publishes MTA-STS enforce), reuse one connection per domain for
// several messages, retry with growing back-off for the configured lifetime (5
// days), tell the sender of a delay after 4 hours and bounce (RFC 3464 DSN, in
// Vietnamese and English) on a permanent failure or expiry. Every attempt is a
// transaction-log row with the remote reply (Điều 11.1).
//
// It never decides who may send what: smtpd and sendlimit do that before Submit.
// It never writes to local mailboxes itself: DSNs for local senders, and the
// local recipients of held mail once released, go through LocalDelivery.
package queue

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"govmail/internal/authreport"
	"govmail/internal/clock"
	"govmail/internal/mailparse"
	"govmail/internal/store"
)

// Config holds the numbers of outbound delivery; zero fields take the defaults
// of Defaults.
type Config struct {
	// Hostname is our EHLO name and the Reporting-MTA of DSNs.
	Hostname string
	// Domains are the local mail domains: their recipients (of held mail, and
	// DSNs to local senders) go through LocalDelivery instead of SMTP.
	Domains []string
	// Port is the remote SMTP port (25; tests use another).
	Port int
	// Workers bounds the connections open at once; PerDomain bounds them per
	// destination, so that one slow domain cannot take every worker.
	Workers   int
	PerDomain int
	// MaxPerConn is how many messages one connection carries before QUIT.
	MaxPerConn int
	// Batch is how many recipients one claim takes.
	Batch int
	// Lease is how long a claim lasts; it must exceed the longest attempt.
	Lease time.Duration
	// Poll is how often idle workers look for mail that became due.
	Poll time.Duration
	// BackoffMin is the wait after the first failed attempt; each further
	// failure doubles it, up to BackoffMax.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// Lifetime is how long a message is retried before it bounces (5 days).
	Lifetime time.Duration
	// DelayNotice is when the sender is told that a message is still waiting (4 h).
	DelayNotice time.Duration
	// Timeouts of one attempt.
	ConnectTimeout time.Duration
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	// Smarthost, when set, receives every outbound message instead of the MX.
	Smarthost *Smarthost
	// Location is the time zone of the dates people read in DSNs
	// (Asia/Ho_Chi_Minh, UTC+7 without daylight saving, by default).
	Location *time.Location
}

// Smarthost is a relay (the province's gateway) that takes all outbound mail.
type Smarthost struct {
	Addr     string // host:port
	Username string // AUTH PLAIN when set; TLS is then required
	Password string
	// ImplicitTLS connects with TLS from the start (port 465); otherwise
	// STARTTLS is used when offered, and required when Username is set.
	ImplicitTLS bool
	// InsecureSkipVerify accepts any certificate (a gateway with a private CA
	// should rather be given RootCAs).
	InsecureSkipVerify bool
}

// Defaults returns the defaults: the requirement's 5 days, 4 hours.
func Defaults() Config {
	return Config{
		Port:           25,
		Workers:        8,
		PerDomain:      2,
		MaxPerConn:     50,
		Batch:          100,
		Lease:          time.Hour,
		Poll:           30 * time.Second,
		BackoffMin:     5 * time.Minute,
		BackoffMax:     2 * time.Hour,
		Lifetime:       5 * 24 * time.Hour,
		DelayNotice:    4 * time.Hour,
		ConnectTimeout: 30 * time.Second,
		CommandTimeout: 5 * time.Minute,
		DataTimeout:    10 * time.Minute,
	}
}

func (c *Config) fill() {
	d := Defaults()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	seti := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	seti(&c.Port, d.Port)
	seti(&c.Workers, d.Workers)
	seti(&c.PerDomain, d.PerDomain)
	seti(&c.MaxPerConn, d.MaxPerConn)
	seti(&c.Batch, d.Batch)
	set(&c.Lease, d.Lease)
	set(&c.Poll, d.Poll)
	set(&c.BackoffMin, d.BackoffMin)
	set(&c.BackoffMax, d.BackoffMax)
	set(&c.Lifetime, d.Lifetime)
	set(&c.DelayNotice, d.DelayNotice)
	set(&c.ConnectTimeout, d.ConnectTimeout)
	set(&c.CommandTimeout, d.CommandTimeout)
	set(&c.DataTimeout, d.DataTimeout)
	if c.Location == nil {
		c.Location = time.FixedZone("+07", 7*3600)
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
}

// Resolver is the DNS the queue needs; *net.Resolver is one.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Signer signs a message before it is queued (internal/dkim's Keyring is one).
// It returns raw unchanged when it has no key for the message's domain.
type Signer interface {
	Sign(raw []byte) ([]byte, error)
}

// LocalMessage is one message for one local mailbox.
type LocalMessage struct {
	From     string // envelope sender, "" for a DSN
	Rcpt     string
	AuthUser string // who submitted it (R9.2), "" for a DSN
	ClientIP string
	Raw      []byte
}

// LocalDelivery stores a message in a local mailbox; an error wrapping
// store.ErrNotFound means there is no such mailbox (a permanent failure).
type LocalDelivery interface {
	DeliverLocal(ctx context.Context, m LocalMessage) error
}

// DialFunc opens a TCP connection; net.Dialer.DialContext is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Options are the dependencies of a Queue.
type Options struct {
	Config   Config
	Store    store.QueueStore
	Resolver Resolver // nil: net.DefaultResolver
	Clock    clock.Clock
	Logger   *slog.Logger
	Local    LocalDelivery // required for DSNs to local senders and held local mail
	Signer   Signer        // nil: mail leaves unsigned
	Dial     DialFunc      // nil: a net.Dialer
	// RootCAs verifies certificates where verification is required (MTA-STS
	// enforce, the smarthost); nil means the system's roots.
	TLS *tls.Config
	// STS finds MTA-STS policies; nil: MTA-STS is not applied.
	STS PolicyFinder
	// OnTLS, when set, is told the TLS outcome of every session opened with
	// a recipient's MX, for TLS reports (RFC 8460).
	OnTLS func(ctx context.Context, o authreport.TLSEvent)
	// DANE, when set, is a validating resolver whose AD bit decides whether
	// TLSA records apply (RFC 7672); nil: no DANE.
	DANE SecureResolver
}

// Queue is the outbound queue and its workers.
type Queue struct {
	cfg      Config
	store    store.QueueStore
	resolver Resolver
	clock    clock.Clock
	log      *slog.Logger
	local    LocalDelivery
	signer   Signer
	dial     DialFunc
	tls      *tls.Config
	sts      PolicyFinder
	onTLS    func(ctx context.Context, o authreport.TLSEvent)
	dane     SecureResolver

	wake chan struct{}
	sem  chan struct{} // Workers

	mu       sync.Mutex
	perDom   map[string]chan struct{} // PerDomain slots, made on first use
	inflight sync.WaitGroup
	pending  atomic.Int64 // jobs dispatched and not finished
}

// New makes a Queue; Run starts its workers.
func New(o Options) (*Queue, error) {
	if o.Store == nil {
		return nil, errors.New("queue: no store")
	}
	o.Config.fill()
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Dial == nil {
		d := &net.Dialer{Timeout: o.Config.ConnectTimeout}
		o.Dial = d.DialContext
	}
	q := &Queue{
		cfg: o.Config, store: o.Store, resolver: o.Resolver, clock: o.Clock, log: o.Logger,
		local: o.Local, signer: o.Signer, dial: o.Dial, tls: o.TLS, sts: o.STS, onTLS: o.OnTLS, dane: o.DANE,
		wake:   make(chan struct{}, 1),
		sem:    make(chan struct{}, o.Config.Workers),
		perDom: map[string]chan struct{}{},
	}
	return q, nil
}

// Recipient is one remote recipient of a submission.
type Recipient struct {
	Address string
	Notify  string // DSN NOTIFY (RFC 3461), "" = default
	ORcpt   string
}

// Submission is a message accepted for remote recipients.
type Submission struct {
	From       string
	Recipients []Recipient
	AuthUser   string
	ClientIP   string
	ClientHelo string
	Proto      string // ESMTPSA ...; for the Received header
	TLS        string // "TLS1.3 ..."; "" without TLS
	EnvID      string
	Ret        string // FULL or HDRS
	UTF8       bool
	// Body is the message as received, CRLF line endings.
	Body []byte
	// Hold, when set, queues the message held with this reason (R17.2): it
	// leaves only when an operator releases it.
	Hold string
}

// Submit signs and queues a message; it returns once the queue committed it
// (DESIGN decision 5: the 250 to DATA means it is on disk).
func (q *Queue) Submit(ctx context.Context, s *Submission) (int64, error) {
	if len(s.Recipients) == 0 {
		return 0, errors.New("queue: no recipients")
	}
	now := q.clock.Now()
	var buf bytes.Buffer
	writeReceived(&buf, q.cfg.Hostname, s, now)
	buf.Write(s.Body)
	raw := buf.Bytes()
	if q.signer != nil {
		signed, err := q.signer.Sign(raw)
		if err != nil {
			// Unsigned mail may land in Junk, but refusing it would lose more.
			q.log.Warn("dkim signing failed; sending unsigned", "from", s.From, "err", err)
		} else {
			raw = signed
		}
	}
	// Only From and Message-ID are wanted, for the log: parse the header
	// block alone rather than walk every MIME part of a message that may
	// carry tens of megabytes of attachments.
	p := mailparse.Parse(headerBlock(raw))
	m := &store.QueuedMessage{
		From: s.From, HeaderFrom: p.From, MessageID: p.MessageID, AuthUser: s.AuthUser, ClientIP: s.ClientIP,
		CreatedAt: now, EnvID: s.EnvID, Ret: s.Ret, UTF8: s.UTF8, Held: s.Hold != "", HoldReason: s.Hold,
	}
	for _, r := range s.Recipients {
		m.Recipients = append(m.Recipients, store.QueueRecipient{Address: r.Address, Notify: r.Notify, ORcpt: r.ORcpt})
	}
	var logs []store.LogEntry
	if s.Hold != "" {
		for _, r := range s.Recipients {
			logs = append(logs, store.LogEntry{
				Time: now, Direction: "out", Proto: "smtp", EnvelopeFrom: s.From, HeaderFrom: p.From, Recipient: r.Address,
				ClientIP: s.ClientIP, Size: int64(len(raw)), MessageID: p.MessageID, AuthUser: s.AuthUser,
				Status: store.LogQuarantined, Error: "held: " + s.Hold,
			})
		}
	}
	id, err := q.store.Enqueue(ctx, &store.NewMessage{Raw: raw, InternalDate: now}, m, logs)
	if err != nil {
		return 0, fmt.Errorf("queue: %w", err)
	}
	q.Wake()
	return id, nil
}

// headerBlock is raw up to and including the blank line that ends its header
// (all of raw when there is none): the header fields parse the same from it.
func headerBlock(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4]
	}
	return raw
}

// Wake makes idle workers look for due mail now.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight (their
// results are recorded; an interrupted one is retried after its lease).
func (q *Queue) Run(ctx context.Context) error {
	defer q.inflight.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		case <-t.C:
		}
		for ctx.Err() == nil {
			// Claim only with a free worker and little waiting: a claimed
			// recipient waits in memory until a connection takes it, and its
			// lease runs meanwhile.
			if len(q.sem) >= cap(q.sem) || q.pending.Load() >= int64(2*q.cfg.Workers) {
				break
			}
			msgs, err := q.store.ClaimQueue(ctx, q.clock.Now(), q.cfg.Lease, q.cfg.Batch)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Error("queue claim", "err", err)
				}
				break
			}
			if len(msgs) == 0 {
				break
			}
			q.dispatch(ctx, msgs, false)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(q.cfg.Poll)
	}
}

// RunOnce claims what is due now, delivers it and returns when every attempt
// is recorded; it returns the number of recipients it handled. Tests with a
// fake clock drive the queue with it.
func (q *Queue) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		msgs, err := q.store.ClaimQueue(ctx, q.clock.Now(), q.cfg.Lease, q.cfg.Batch)
		if err != nil {
			return total, err
		}
		if len(msgs) == 0 {
			return total, nil
		}
		for _, m := range msgs {
			total += len(m.Recipients)
		}
		q.dispatch(ctx, msgs, true)
	}
}

// routeLocal is the route of local recipients (held mail, once released).
const routeLocal = "local:"

// job is what one connection carries: messages for one route.
type job struct {
	route string // domain, or "smarthost"
	msgs  []store.QueuedMessage
}

// dispatch groups claimed recipients by destination and starts a connection
// per group of at most MaxPerConn messages. With wait it returns when all are done.
func (q *Queue) dispatch(ctx context.Context, msgs []store.QueuedMessage, wait bool) {
	var jobs []*job
	byRoute := map[string][]store.QueuedMessage{}
	var order []string
	for _, m := range msgs {
		split := map[string][]store.QueueRecipient{}
		var rorder []string
		for _, r := range m.Recipients {
			key := r.Domain
			switch {
			case q.isLocal(r.Domain):
				key = routeLocal
			case q.cfg.Smarthost != nil:
				key = "smarthost"
			}
			if _, ok := split[key]; !ok {
				rorder = append(rorder, key)
			}
			split[key] = append(split[key], r)
		}
		for _, key := range rorder {
			mm := m
			mm.Recipients = split[key]
			if _, ok := byRoute[key]; !ok {
				order = append(order, key)
			}
			byRoute[key] = append(byRoute[key], mm)
		}
	}
	for _, key := range order {
		list := byRoute[key]
		for len(list) > 0 {
			n := min(len(list), q.cfg.MaxPerConn)
			jobs = append(jobs, &job{route: key, msgs: list[:n]})
			list = list[n:]
		}
	}
	var wg sync.WaitGroup
	claimed := q.clock.Now()
	for _, j := range jobs {
		wg.Add(1)
		q.inflight.Add(1)
		q.pending.Add(1)
		go func(j *job) {
			defer q.inflight.Done()
			defer wg.Done()
			defer q.pending.Add(-1)
			dom := q.domainSlot(j.route)
			dom <- struct{}{}
			q.sem <- struct{}{}
			defer func() { <-q.sem; <-dom }()
			if q.clock.Now().Sub(claimed) > q.cfg.Lease/2 {
				// Waited for a slot for half the lease: the attempt might outlive
				// the lease and race a second claim. Let the lease run out; the
				// recipients are claimed afresh later.
				q.log.Warn("queue job waited too long for a connection slot", "route", j.route)
				return
			}
			// An attempt in flight finishes and is recorded even when the
			// queue stops: its reply is known only then.
			q.runJob(context.WithoutCancel(ctx), j)
		}(j)
	}
	if wait {
		wg.Wait()
	}
}

func (q *Queue) domainSlot(route string) chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.perDom[route]
	if !ok {
		c = make(chan struct{}, q.cfg.PerDomain)
		q.perDom[route] = c
	}
	return c
}

func (q *Queue) isLocal(domain string) bool {
	for _, d := range q.cfg.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// backoff is the wait after the n-th failed attempt (n ≥ 1): BackoffMin,
// doubling, capped at BackoffMax.
func (c *Config) backoff(n int) time.Duration {
	d := c.BackoffMin
	for i := 1; i < n && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}
