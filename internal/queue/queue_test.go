package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"govmail/internal/queue"
	"govmail/internal/store"
)

const sender = "hoant.skhcn@sonla.gov.vn"

// A 451 (greylisting) is retried after the back-off, and the second attempt
// delivers; each attempt is a log row with the remote reply (R11.1).
func TestGreylistRetried(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	p.rcpt = func(from, to string, n int) error {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}
		}
		return nil
	}
	h := newHarness(t, harnessOpts{}, "grey.test. 300 IN MX 10 mx.grey.test.", "mx.grey.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	h.submit(t, sender, []string{"a@grey.test"}, "greylist")
	if n := h.runOnce(t); n != 1 {
		t.Fatalf("first run handled %d", n)
	}
	if len(p.messages()) != 0 {
		t.Fatal("delivered despite 451")
	}
	// Not due before the back-off.
	h.clk.Advance(4 * time.Minute)
	if n := h.runOnce(t); n != 0 {
		t.Fatalf("retried before the back-off: %d", n)
	}
	h.clk.Advance(time.Minute)
	if n := h.runOnce(t); n != 1 {
		t.Fatalf("second run handled %d", n)
	}
	if len(p.messages()) != 1 {
		t.Fatal("not delivered on retry")
	}
	rows := h.logs(t, "a@grey.test")
	if len(rows) != 2 || rows[0].Status != store.LogDeferred || !strings.Contains(rows[0].Error, "451 4.7.1 Greylisted") ||
		rows[1].Status != store.LogDelivered || !strings.HasPrefix(rows[1].Error, "250 ") {
		t.Fatalf("log rows: %+v", rows)
	}
	if rows[0].AuthUser != sender || rows[0].ClientIP != "127.0.0.1" || rows[0].Size == 0 || rows[0].MessageID == "" {
		t.Errorf("log row lacks R11.1 fields: %+v", rows[0])
	}
	if h.queueLen(t) != 0 {
		t.Error("delivered message still queued")
	}
	if len(h.dsns.all()) != 0 {
		t.Error("DSN sent for a delivered message")
	}
}

// A 550 bounces at once with a DSN (RFC 3464) in Vietnamese and English; the
// other recipient of the same message is delivered.
func TestPermanentFailureBounces(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	p.rcpt = func(from, to string, n int) error {
		if strings.HasPrefix(to, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return nil
	}
	h := newHarness(t, harnessOpts{}, "bad.test. 300 IN MX 10 mx.bad.test.", "mx.bad.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	h.submit(t, sender, []string{"nobody@bad.test", "ok@bad.test"}, "bounce me")
	h.runOnce(t)
	if m := p.messages(); len(m) != 1 || len(m[0].To) != 1 || m[0].To[0] != "ok@bad.test" {
		t.Fatalf("peer got %+v", m)
	}
	d := h.dsns.all()
	if len(d) != 1 || d[0].rcpt != sender {
		t.Fatalf("dsns: %+v", d)
	}
	for _, want := range []string{
		"multipart/report; report-type=delivery-status",
		"Content-Type: message/delivery-status",
		"Final-Recipient: rfc822; nobody@bad.test",
		"Action: failed",
		"Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 No such user",
		"Remote-MTA: dns; mx.bad.test",
		"Reporting-MTA: dns; mail.sonla.gov.vn",
		"Content-Type: text/rfc822-headers",
		"Subject: =?utf-8?q?",
		"could not be delivered",
		"Auto-Submitted: auto-replied",
	} {
		if !strings.Contains(d[0].raw, want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if strings.Contains(d[0].raw, "ok@bad.test\r\nAction") {
		t.Error("DSN reports the delivered recipient")
	}
	if !strings.Contains(d[0].raw, "Th=C6=B0 c=E1=BB=A7a b=E1=BA=A1n") { // "Thư của bạn", quoted-printable
		t.Error("DSN lacks the Vietnamese text")
	}
	rows := h.logs(t, "nobody@bad.test")
	if len(rows) != 1 || rows[0].Status != store.LogBounced || !strings.Contains(rows[0].Error, "550 5.1.1") {
		t.Fatalf("log: %+v", rows)
	}
	if h.queueLen(t) != 0 {
		t.Error("message still queued")
	}
}

// A server that is down is retried with growing back-off; after 4 hours the
// sender is told once; after the lifetime (5 days) the message bounces with
// 4.4.7 and leaves the queue.
func TestDownServerDelayThenExpiry(t *testing.T) {
	closed := refusedAddr(t)
	h := newHarness(t, harnessOpts{}, "down.test. 300 IN MX 10 mx.down.test.", "mx.down.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", closed)
	h.submit(t, sender, []string{"a@down.test"}, "down")
	var waits []time.Duration
	last := h.clk.Now()
	for i := 0; i < 200 && h.queueLen(t) > 0; i++ {
		if n := h.runOnce(t); n > 0 {
			waits = append(waits, h.clk.Now().Sub(last))
			last = h.clk.Now()
		}
		h.clk.Advance(time.Minute)
		if i > 10 {
			h.clk.Advance(59 * time.Minute)
		}
	}
	if h.queueLen(t) != 0 {
		t.Fatal("still queued after the lifetime")
	}
	// Back-off grows: 5, 10, 20, 40 minutes, then 1 h (with minute ticks).
	if len(waits) < 5 || waits[2] < 5*time.Minute || waits[3] < 10*time.Minute || waits[4] < 20*time.Minute {
		t.Errorf("back-off does not grow: %v", waits)
	}
	if age := h.clk.Now().Sub(t0); age < 5*24*time.Hour || age > 5*24*time.Hour+2*time.Hour {
		t.Errorf("gave up after %v, want 5 days", age)
	}
	d := h.dsns.all()
	if len(d) != 2 {
		t.Fatalf("want one delay notice and one bounce, got %d", len(d))
	}
	if !strings.Contains(d[0].raw, "Action: delayed") || !strings.Contains(d[0].raw, "Will-Retry-Until:") ||
		!strings.Contains(d[0].raw, "has not yet been delivered") || !strings.Contains(d[0].raw, "by Sat, 07 Mar 2026 08:00:00 +0700") {
		t.Errorf("first DSN is not a delay notice:\n%s", d[0].raw)
	}
	if !strings.Contains(d[1].raw, "Action: failed") || !strings.Contains(d[1].raw, "Status: 4.4.7") {
		t.Errorf("second DSN is not the expiry bounce:\n%s", d[1].raw)
	}
	rows := h.logs(t, "a@down.test")
	if rows[len(rows)-1].Status != store.LogBounced || !strings.Contains(rows[len(rows)-1].Error, "connection refused") {
		t.Errorf("last log row: %+v", rows[len(rows)-1])
	}
	for _, r := range rows[:len(rows)-1] {
		if r.Status != store.LogDeferred {
			t.Errorf("attempt row: %+v", r)
		}
	}
}

// A server that stalls past the timeout is a temporary failure.
func TestSlowServerDeferred(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	p.stall = 2 * time.Second
	h := newHarness(t, harnessOpts{cfg: func(c *queue.Config) { c.DataTimeout = 500 * time.Millisecond }},
		"slow.test. 300 IN MX 10 mx.slow.test.", "mx.slow.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	h.submit(t, sender, []string{"a@slow.test"}, "slow")
	start := time.Now()
	h.runOnce(t)
	if time.Since(start) > 1900*time.Millisecond { // the peer stalls 2 s
		t.Errorf("attempt took %v: the timeout did not apply", time.Since(start))
	}
	rows := h.logs(t, "a@slow.test")
	if len(rows) != 1 || rows[0].Status != store.LogDeferred || !strings.Contains(rows[0].Error, "timeout") {
		t.Fatalf("log: %+v", rows)
	}
	if h.queueLen(t) != 1 {
		t.Error("message left the queue")
	}
}

// MX preference is followed, a host that refuses is skipped, and a domain
// without MX is delivered to its own address (RFC 5321 5.1).
func TestMXFallbacks(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	closed := refusedAddr(t)
	h := newHarness(t, harnessOpts{},
		"multi.test. 300 IN MX 10 mx1.multi.test.",
		"multi.test. 300 IN MX 20 mx2.multi.test.",
		"mx1.multi.test. 300 IN A 127.0.0.2",
		"mx2.multi.test. 300 IN A 127.0.0.1",
		"nomx.test. 300 IN A 127.0.0.1",
		"nullmx.test. 300 IN MX 0 .",
		"servfail.test. 300 IN MX 10 mx.servfail.test.",
	)
	h.route("127.0.0.2", closed)
	h.route("127.0.0.1", p.Addr)
	h.dns.Fail("servfail.test", 2) // SERVFAIL
	h.submit(t, sender, []string{"a@multi.test"}, "multi")
	h.submit(t, sender, []string{"b@nomx.test"}, "nomx")
	h.submit(t, sender, []string{"c@nullmx.test"}, "nullmx")
	h.submit(t, sender, []string{"d@nxdomain.test"}, "nxdomain")
	h.submit(t, sender, []string{"e@servfail.test"}, "servfail")
	h.runOnce(t)
	var to []string
	for _, m := range p.messages() {
		to = append(to, m.To...)
	}
	if strings.Join(to, ",") != "a@multi.test,b@nomx.test" && strings.Join(to, ",") != "b@nomx.test,a@multi.test" {
		t.Fatalf("delivered to %v", to)
	}
	if r := h.logs(t, "c@nullmx.test"); len(r) != 1 || r[0].Status != store.LogBounced || !strings.Contains(r[0].Error, "null MX") {
		t.Errorf("null MX: %+v", r)
	}
	if r := h.logs(t, "d@nxdomain.test"); len(r) != 1 || r[0].Status != store.LogBounced || !strings.Contains(r[0].Error, "no MX and no address") {
		t.Errorf("NXDOMAIN: %+v", r)
	}
	if r := h.logs(t, "e@servfail.test"); len(r) != 1 || r[0].Status != store.LogDeferred {
		t.Errorf("SERVFAIL: %+v", r)
	}
	var statuses []string
	for _, d := range h.dsns.all() {
		for _, s := range []string{"Status: 5.1.10", "Status: 5.1.2"} {
			if strings.Contains(d.raw, s) {
				statuses = append(statuses, s)
			}
		}
	}
	if len(statuses) != 2 {
		t.Errorf("bounces: %v", statuses)
	}
}

// N5: an MX with an AAAA record is reached over IPv6 first.
func TestIPv6Preferred(t *testing.T) {
	p6 := startPeer(t, nil, "tcp6", "[::1]:0")
	p4 := startPeer(t, nil, "tcp", "127.0.0.1:0")
	h := newHarness(t, harnessOpts{}, "six.test. 300 IN MX 10 mx.six.test.", "mx.six.test. 300 IN A 127.0.0.1", "mx.six.test. 300 IN AAAA ::1")
	h.route("127.0.0.1", p4.Addr)
	h.route("::1", p6.Addr)
	h.submit(t, sender, []string{"a@six.test"}, "ipv6")
	h.runOnce(t)
	if len(p6.messages()) != 1 || len(p4.messages()) != 0 {
		t.Fatalf("IPv6 peer got %d, IPv4 peer %d", len(p6.messages()), len(p4.messages()))
	}
	if r := h.logs(t, "a@six.test"); len(r) != 1 || !strings.Contains(r[0].Error, "[::1]") {
		t.Errorf("log: %+v", r)
	}
}

// Several messages to one domain share one connection.
func TestConnectionReuse(t *testing.T) {
	p := startPeer(t, newCA(t).server(t, "mx.reuse.test"), "tcp", "127.0.0.1:0")
	h := newHarness(t, harnessOpts{}, "reuse.test. 300 IN MX 10 mx.reuse.test.", "mx.reuse.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	for i := 0; i < 5; i++ {
		h.submit(t, sender, []string{"a@reuse.test"}, "reuse")
	}
	h.runOnce(t)
	msgs := p.messages()
	if len(msgs) != 5 {
		t.Fatalf("delivered %d", len(msgs))
	}
	if p.accepted() != 1 {
		t.Errorf("%d connections for 5 messages", p.accepted())
	}
	for _, m := range msgs {
		if !m.TLS {
			t.Error("STARTTLS was offered but not used")
		}
		if !strings.HasPrefix(m.Data, "Received: from client.test ([127.0.0.1])\r\n\tby mail.sonla.gov.vn (govmail) with ESMTPSA") {
			t.Errorf("no Received header: %.200q", m.Data)
		}
	}
}

// A smarthost with AUTH gets everything, over TLS it verifies.
func TestSmarthostAuth(t *testing.T) {
	ca := newCA(t)
	cliTLS := ca.client()
	p := startPeer(t, ca.server(t, "localhost"), "tcp", "127.0.0.1:0")
	p.needAuth = true
	h := newHarness(t, harnessOpts{tls: cliTLS, cfg: func(c *queue.Config) {
		c.Smarthost = &queue.Smarthost{Addr: "localhost:25", Username: "relay", Password: "Bí mật 1!"}
	}}, "localhost. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	h.submit(t, sender, []string{"a@anywhere.test", "b@elsewhere.test"}, "via smarthost")
	h.runOnce(t)
	msgs := p.messages()
	if len(msgs) != 1 || len(msgs[0].To) != 2 || msgs[0].User != "relay" || !msgs[0].TLS {
		t.Fatalf("smarthost got %+v", msgs)
	}
	// Wrong password: deferred, never bounced (our configuration, not the mail, is wrong).
	h2 := newHarness(t, harnessOpts{tls: cliTLS, cfg: func(c *queue.Config) {
		c.Smarthost = &queue.Smarthost{Addr: "localhost:25", Username: "relay", Password: "wrong"}
	}}, "localhost. 300 IN A 127.0.0.1")
	h2.route("127.0.0.1", p.Addr)
	h2.submit(t, sender, []string{"c@anywhere.test"}, "bad auth")
	h2.runOnce(t)
	if r := h2.logs(t, "c@anywhere.test"); len(r) != 1 || r[0].Status != store.LogDeferred || !strings.Contains(r[0].Error, "535") {
		t.Errorf("bad smarthost auth: %+v", r)
	}
}

// A DSN for a remote sender is queued with an empty reverse path, and a
// failed DSN is never bounced again.
func TestRemoteSenderDSN(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	p.rcpt = func(from, to string, n int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	h := newHarness(t, harnessOpts{}, "x.test. 300 IN MX 10 mx.x.test.", "mx.x.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	h.submit(t, "someone@x.test", []string{"nobody@x.test"}, "forwarded")
	// The bounce is queued for someone@x.test and, due at once, tried in the
	// same run; the peer refuses it too, and a DSN is never bounced.
	if n := h.runOnce(t); n != 2 {
		t.Fatalf("handled %d recipients, want the message and its DSN", n)
	}
	r := h.logs(t, "someone@x.test")
	if len(r) != 1 || r[0].EnvelopeFrom != "" || r[0].Status != store.LogBounced || r[0].HeaderFrom != "mailer-daemon@sonla.gov.vn" {
		t.Fatalf("DSN attempt: %+v", r)
	}
	if h.queueLen(t) != 0 || len(h.dsns.all()) != 0 {
		t.Error("a failed DSN stayed queued or bounced")
	}
}

// Run delivers as soon as Submit wakes it and returns when its context ends.
func TestRunLoop(t *testing.T) {
	p := startPeer(t, nil, "tcp", "127.0.0.1:0")
	h := newHarness(t, harnessOpts{}, "run.test. 300 IN MX 10 mx.run.test.", "mx.run.test. 300 IN A 127.0.0.1")
	h.route("127.0.0.1", p.Addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.q.Run(ctx) }()
	for i := 0; i < 3; i++ {
		h.submit(t, sender, []string{"a@run.test"}, "run loop")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(p.messages()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("Run delivered %d of 3", len(p.messages()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if h.queueLen(t) != 0 {
		t.Error("queue not empty")
	}
}
