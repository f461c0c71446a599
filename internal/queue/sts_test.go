package queue_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"govmail/internal/authreport"
	"govmail/internal/queue"
	"govmail/internal/store"
)

// MTA-STS (RFC 8461) is honoured when sending: in enforce mode only the MX
// hosts the policy names, only over TLS whose certificate verifies for the MX
// name, never falling back to plaintext; in testing mode mail still goes.
func TestMTASTS(t *testing.T) {
	ca := newCA(t)
	policies := map[string]string{
		"mta-sts.sts.test":     "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmx: *.backup.sts.test\r\nmax_age: 86400\r\n",
		"mta-sts.plain.test":   "version: STSv1\nmode: enforce\nmx: mx.plain.test\nmax_age: 86400\n",
		"mta-sts.wrong.test":   "version: STSv1\nmode: enforce\nmx: mx.wrong.test\nmax_age: 86400\n",
		"mta-sts.other.test":   "version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n",
		"mta-sts.testing.test": "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n",
	}
	var fetches atomic.Int32
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		host, _, _ := net.SplitHostPort(r.Host)
		if host == "" {
			host = r.Host
		}
		p, ok := policies[host]
		if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(p))
	}))
	var names []string
	for h := range policies {
		names = append(names, h)
	}
	web.TLS = ca.server(t, names...)
	web.StartTLS()
	defer web.Close()
	webAddr := web.Listener.Addr().String()
	sts := &queue.STSCache{HTTP: &http.Client{Transport: &http.Transport{
		TLSClientConfig: ca.client(),
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, webAddr) // every mta-sts.* host is this test server
		},
	}}}

	good := startPeer(t, ca.server(t, "mx.sts.test"), "tcp", "127.0.0.1:0")
	plain := startPeer(t, nil, "tcp", "127.0.0.1:0")
	wrong := startPeer(t, ca.server(t, "someone-else.test"), "tcp", "127.0.0.1:0")
	var records []string
	for _, d := range []struct{ dom, ip string }{{"sts", "127.0.0.1"}, {"plain", "127.0.0.2"}, {"wrong", "127.0.0.3"}, {"other", "127.0.0.1"}, {"testing", "127.0.0.2"}} {
		records = append(records,
			d.dom+".test. 300 IN MX 10 mx."+d.dom+".test.",
			"mx."+d.dom+".test. 300 IN A "+d.ip,
			`_mta-sts.`+d.dom+`.test. 300 IN TXT "v=STSv1; id=20260302"`)
	}
	var tr tlsRecorder
	h := newHarness(t, harnessOpts{tls: ca.client(), sts: sts, onTLS: tr.record}, records...)
	sts.Resolver, sts.Clock = h.dns.Resolver(), h.clk
	h.route("127.0.0.1", good.Addr)
	h.route("127.0.0.2", plain.Addr)
	h.route("127.0.0.3", wrong.Addr)

	for _, d := range []string{"sts", "plain", "wrong", "other", "testing"} {
		h.submit(t, sender, []string{"a@" + d + ".test"}, "mta-sts "+d)
	}
	h.runOnce(t)
	check := func(rcpt, status, want string) {
		t.Helper()
		r := h.logs(t, rcpt)
		if len(r) != 1 || r[0].Status != status || !strings.Contains(r[0].Error, want) {
			t.Errorf("%s: want %s with %q, got %+v", rcpt, status, want, r)
		}
	}
	check("a@sts.test", store.LogDelivered, "TLS")
	check("a@plain.test", store.LogDeferred, "required but not offered")
	check("a@wrong.test", store.LogDeferred, "certificate")
	check("a@other.test", store.LogDeferred, "MTA-STS policy")
	check("a@testing.test", store.LogDelivered, "250")
	if len(plain.messages()) != 1 || len(wrong.messages()) != 0 {
		t.Errorf("plaintext fallback under enforce: plain got %d, wrong got %d", len(plain.messages()), len(wrong.messages()))
	}
	// Each session's TLS outcome, in RFC 8460's terms, for the TLS reports.
	for dom, want := range map[string]string{"sts.test": "", "plain.test": authreport.ResultStartTLSNotSupported,
		"wrong.test": authreport.ResultHostMismatch, "testing.test": authreport.ResultStartTLSNotSupported} {
		got := tr.of(dom)
		if len(got) != 1 || got[0].Result != want || got[0].Policy.Type != "sts" || got[0].ReceivingIP == "" {
			t.Errorf("%s: TLS outcomes %+v, want one %q under its sts policy", dom, got, want)
		}
	}
	if o := tr.of("sts.test"); len(o) == 1 && (!slices.Contains(o[0].Policy.String, "mode: enforce") || o[0].Policy.MXHost[0] != "mx.sts.test" || o[0].SendingIP != "127.0.0.1") {
		t.Errorf("sts.test outcome does not carry its policy: %+v", o[0])
	}
	if len(tr.of("other.test")) != 0 {
		t.Errorf("a domain no session was opened with has TLS outcomes: %+v", tr.of("other.test"))
	}
	// The policies are cached for max_age: a second round fetches nothing.
	n := fetches.Load()
	h.submit(t, sender, []string{"b@sts.test"}, "again")
	h.runOnce(t)
	if fetches.Load() != n {
		t.Errorf("policy fetched again within max_age")
	}
	check("b@sts.test", store.LogDelivered, "TLS")
}

func TestPolicyParseAndText(t *testing.T) {
	p := queue.OwnPolicy("mail.sonla.gov.vn")
	q, err := queue.ParsePolicy(p.Text())
	if err != nil || q.Mode != "enforce" || len(q.MX) != 1 || q.MaxAge != p.MaxAge {
		t.Fatalf("round trip: %+v %v", q, err)
	}
	if !q.Matches("MAIL.sonla.gov.vn.") || q.Matches("x.mail.sonla.gov.vn") {
		t.Error("exact match")
	}
	w := &queue.STSPolicy{MX: []string{"*.sonla.gov.vn"}}
	if !w.Matches("mx1.sonla.gov.vn") || w.Matches("a.b.sonla.gov.vn") || w.Matches("sonla.gov.vn") {
		t.Error("wildcard matches exactly one label")
	}
	for _, bad := range []string{"mode: enforce\nmx: a\nmax_age: 1\n", "version: STSv1\nmode: enforce\nmax_age: 1\n", "version: STSv1\nmode: sometimes\nmx: a\nmax_age: 1\n"} {
		if _, err := queue.ParsePolicy(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	rec := httptest.NewRecorder()
	queue.STSHandler(p).ServeHTTP(rec, httptest.NewRequest("GET", "https://mta-sts.sonla.gov.vn/.well-known/mta-sts.txt", nil))
	if rec.Code != 200 || rec.Body.String() != p.Text() || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("handler: %d %q", rec.Code, rec.Body.String())
	}
}
