package queue

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"govmail/internal/authreport"
)

// route is where one domain's mail goes.
type route struct {
	domain    string
	hosts     []mxHost // in preference order
	port      int
	implicit  bool // no MX: the domain's own addresses (RFC 5321 5.1)
	smarthost *Smarthost
	policy    *STSPolicy // nil, or a policy in enforce or testing mode
	// mxSecure: the MX (or address) answer was DNSSEC-validated, so the
	// hosts' TLSA records count (DANE, RFC 7672).
	mxSecure bool
}

type mxHost struct {
	name string
	ip   net.IP // set for address literals and smarthosts given by address
}

// routeError is a failure to find where to deliver.
type routeError struct {
	perm   bool
	status string
	msg    string
}

func (e *routeError) Error() string { return e.msg }

func routeResult(err error) result {
	var re *routeError
	if errors.As(err, &re) {
		if re.perm {
			return failed(re.status, re.msg)
		}
		return deferred(re.status, re.msg)
	}
	return deferred("4.4.3", err.Error())
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// route finds the hosts of a destination: the smarthost, an address literal,
// the MX hosts, or (no MX) the domain itself; MTA-STS in enforce mode keeps
// only the hosts its policy names.
func (q *Queue) route(ctx context.Context, key string) (*route, error) {
	if key == "smarthost" && q.cfg.Smarthost != nil {
		host, port, err := net.SplitHostPort(q.cfg.Smarthost.Addr)
		if err != nil {
			return nil, &routeError{status: "4.3.5", msg: "smarthost address: " + err.Error()}
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, &routeError{status: "4.3.5", msg: "smarthost port: " + err.Error()}
		}
		return &route{domain: host, hosts: []mxHost{{name: host, ip: net.ParseIP(host)}}, port: p, smarthost: q.cfg.Smarthost}, nil
	}
	rt := &route{domain: key, port: q.cfg.Port}
	if strings.HasPrefix(key, "[") && strings.HasSuffix(key, "]") {
		lit := strings.TrimPrefix(key[1:len(key)-1], "IPv6:")
		ip := net.ParseIP(lit)
		if ip == nil {
			return nil, &routeError{perm: true, status: "5.1.2", msg: "bad address literal " + key}
		}
		rt.hosts = []mxHost{{name: key, ip: ip}}
		return rt, nil
	}
	mxs, err := q.resolver.LookupMX(ctx, key)
	switch {
	case len(mxs) > 0:
		if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
			return nil, &routeError{perm: true, status: "5.1.10", msg: fmt.Sprintf("%s accepts no mail (null MX, RFC 7505)", key)}
		}
		for _, mx := range mxs {
			if h := strings.TrimSuffix(mx.Host, "."); h != "" {
				rt.hosts = append(rt.hosts, mxHost{name: h})
			}
		}
	case isNotFound(err):
		rt.implicit = true
		rt.hosts = []mxHost{{name: key}}
	default:
		return nil, &routeError{status: "4.4.3", msg: fmt.Sprintf("DNS lookup of MX for %s failed: %v", key, err)}
	}
	rt.mxSecure = q.mxSecure(ctx, key, rt.implicit)
	if q.sts != nil {
		pol, err := q.sts.Find(ctx, key)
		if err != nil {
			// RFC 8461 5: without a usable policy, deliver as without MTA-STS.
			q.log.Warn("mta-sts policy not available", "domain", key, "err", err)
			if q.onTLS != nil {
				q.onTLS(ctx, authreport.TLSEvent{Domain: key, Policy: authreport.TLSPolicy{Type: authreport.PolicySTS}, Result: authreport.ResultSTSPolicyFetch, Info: err.Error()})
			}
		} else if pol != nil && pol.Mode != STSModeNone {
			rt.policy = pol
			if pol.Mode == STSModeEnforce {
				var kept []mxHost
				for _, h := range rt.hosts {
					if pol.Matches(h.name) {
						kept = append(kept, h)
					}
				}
				if len(kept) == 0 {
					return nil, &routeError{status: "4.7.5", msg: fmt.Sprintf("no MX host of %s matches its MTA-STS policy", key)}
				}
				rt.hosts = kept
			}
		}
	}
	return rt, nil
}

// session is an open SMTP session, ready for MAIL.
type session struct {
	c      *smtp.Client
	conn   net.Conn
	remote string // "mx.example.org [192.0.2.1], TLS1.3" for the log
	tls    bool   // the session is encrypted
	local  string // our address, for TLS reports
}

func (s *session) close(polite bool) {
	if polite {
		s.conn.SetDeadline(time.Now().Add(10 * time.Second))
		if s.c.Quit() == nil {
			return
		}
	}
	s.c.Close()
}

// connectError says why no host took a connection.
type connectError struct{ msg string }

func (e *connectError) Error() string { return e.msg }

func connectResult(err error) result {
	var re *routeError
	if errors.As(err, &re) {
		return routeResult(err)
	}
	return deferred("4.4.1", err.Error())
}

// connect opens a session with the first host that answers, trying each host
// in preference order and each address, IPv6 first (N5).
func (q *Queue) connect(ctx context.Context, rt *route) (*session, error) {
	var errs []string
	resolved := false
	for _, h := range rt.hosts {
		ips := []net.IP{h.ip}
		if h.ip == nil {
			addrs, err := q.resolver.LookupIPAddr(ctx, h.name)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", h.name, err))
				if !isNotFound(err) {
					resolved = true // a temporary failure is not "no such host"
				}
				continue
			}
			ips = ips[:0]
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
		resolved = true
		dh, err := q.daneFor(ctx, rt, h.name)
		if err != nil {
			// RFC 7672 2.2: a bogus or failed TLSA lookup defers this host.
			q.reportTLS(ctx, rt, nil, h.name, nil, "", authreport.ResultDNSSECInvalid, err.Error())
			errs = append(errs, fmt.Sprintf("%s: %v", h.name, err))
			continue
		}
		sort.SliceStable(ips, func(i, j int) bool { return ips[i].To4() == nil && ips[j].To4() != nil })
		for _, ip := range ips {
			s, err := q.open(ctx, rt, dh, h.name, ip)
			if err == nil {
				return s, nil
			}
			errs = append(errs, fmt.Sprintf("%s [%s]: %v", h.name, ip, err))
			if ctx.Err() != nil {
				return nil, &connectError{msg: strings.Join(errs, "; ")}
			}
		}
	}
	if !resolved && rt.implicit {
		return nil, &routeError{perm: true, status: "5.1.2", msg: fmt.Sprintf("%s has no MX and no address", rt.domain)}
	}
	return nil, &connectError{msg: strings.Join(errs, "; ")}
}

// tlsError is a failed or missing TLS where TLS was tried or required.
type tlsError struct {
	err   error
	kind  string // the RFC 8460 result type, for TLS reports
	local string // our address on the failed connection
}

func (e *tlsError) Error() string { return "TLS: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// open makes one session: STARTTLS whenever offered; verified TLS where the
// smarthost or MTA-STS enforce asks for it. Opportunistic TLS that fails falls
// back to a new plaintext connection, as a peer with a broken TLS stack would
// otherwise never get mail (RFC 7435).
func (q *Queue) open(ctx context.Context, rt *route, dh *daneHost, name string, ip net.IP) (*session, error) {
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(rt.port))
	remote := fmt.Sprintf("%s [%s]", name, ip)
	require, verify, implicitTLS := false, false, false
	if sh := rt.smarthost; sh != nil {
		require = sh.Username != "" || sh.ImplicitTLS
		verify = !sh.InsecureSkipVerify
		implicitTLS = sh.ImplicitTLS
	}
	if rt.policy != nil && rt.policy.Mode == STSModeEnforce {
		require, verify = true, true
	}
	if dh != nil {
		// DANE: TLS is mandatory and the TLSA records, not the Web PKI,
		// authenticate the server (and take precedence over MTA-STS, RFC 8461 2).
		require, verify = true, false
	}
	s, err := q.handshake(ctx, addr, name, remote, true, require, verify, implicitTLS, dh)
	var te *tlsError
	switch {
	case err != nil && errors.As(err, &te):
		q.reportTLS(ctx, rt, dh, name, ip, te.local, tlsResultType(te), te.Error())
	case err == nil && s.tls:
		q.reportTLS(ctx, rt, dh, name, ip, s.local, "", "")
	case err == nil:
		q.reportTLS(ctx, rt, dh, name, ip, s.local, authreport.ResultStartTLSNotSupported, "STARTTLS not offered")
	}
	if err != nil && te != nil && !require {
		q.log.Info("opportunistic TLS failed; retrying without", "remote", remote, "err", err)
		s, err = q.handshake(ctx, addr, name, remote, false, false, false, false, nil)
	}
	if err == nil && rt.smarthost != nil && rt.smarthost.Username != "" {
		if !s.c.SupportsAuth(sasl.Plain) {
			s.c.Close()
			return nil, errors.New("smarthost offers no AUTH PLAIN")
		}
		if err := s.c.Auth(sasl.NewPlainClient("", rt.smarthost.Username, rt.smarthost.Password)); err != nil {
			s.c.Close()
			return nil, fmt.Errorf("smarthost AUTH: %w", err)
		}
	}
	return s, err
}

// handshake connects, reads the greeting, says EHLO and does STARTTLS itself,
// then hands the session to go-smtp's client. go-smtp v0.25 has no public
// STARTTLS on an open client, and its NewClientStartTLS would greet as
// "localhost"; so the client is given the (encrypted) stream behind a
// synthetic greeting and says EHLO again, as RFC 3207 requires after TLS.
func (q *Queue) handshake(ctx context.Context, addr, name, remote string, tryTLS, require, verify, implicitTLS bool, dh *daneHost) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, q.cfg.ConnectTimeout)
	conn, err := q.dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, err
	}
	local := ""
	if ta, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		local = ta.IP.String()
	}
	fail := func(err error) (*session, error) {
		conn.Close()
		var te *tlsError
		if errors.As(err, &te) {
			te.local = local
		}
		return nil, err
	}
	tlsInfo := ""
	if implicitTLS {
		tc := tls.Client(conn, q.tlsConfig(name, verify, dh))
		hctx, cancel := context.WithTimeout(ctx, q.cfg.CommandTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail(&tlsError{err: err})
		}
		conn = tc
		tlsInfo = tlsName(tc)
	}
	conn.SetDeadline(time.Now().Add(q.cfg.CommandTimeout))
	br := bufio.NewReader(conn)
	tr := textproto.NewReader(br)
	if _, _, err := tr.ReadResponse(220); err != nil {
		return fail(protoErr(err))
	}
	var stream io.Reader = br
	if !implicitTLS {
		if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", q.cfg.Hostname); err != nil {
			return fail(err)
		}
		_, msg, err := tr.ReadResponse(250)
		exts := map[string]bool{}
		if err != nil {
			var pe *textproto.Error
			if !errors.As(err, &pe) || (pe.Code != 500 && pe.Code != 502) {
				return fail(protoErr(err))
			}
			// An old server without EHLO: no STARTTLS either.
			if _, err := fmt.Fprintf(conn, "HELO %s\r\n", q.cfg.Hostname); err != nil {
				return fail(err)
			}
			if _, _, err := tr.ReadResponse(250); err != nil {
				return fail(protoErr(err))
			}
		} else {
			for _, l := range strings.Split(msg, "\n")[1:] {
				f := strings.Fields(l)
				if len(f) > 0 {
					exts[strings.ToUpper(f[0])] = true
				}
			}
		}
		switch {
		case tryTLS && exts["STARTTLS"]:
			if _, err := fmt.Fprintf(conn, "STARTTLS\r\n"); err != nil {
				return fail(err)
			}
			if _, _, err := tr.ReadResponse(220); err != nil {
				return fail(&tlsError{err: protoErr(err), kind: authreport.ResultStartTLSNotSupported})
			}
			if br.Buffered() > 0 {
				// Bytes sent before the handshake would be read as if encrypted
				// (the STARTTLS command-injection attack).
				return fail(&tlsError{err: errors.New("server sent data before the TLS handshake")})
			}
			tc := tls.Client(conn, q.tlsConfig(name, verify, dh))
			hctx, cancel := context.WithTimeout(ctx, q.cfg.CommandTimeout)
			err := tc.HandshakeContext(hctx)
			cancel()
			if err != nil {
				return fail(&tlsError{err: err})
			}
			conn, stream = tc, tc
			tlsInfo = tlsName(tc)
		case require:
			return fail(&tlsError{err: errors.New("required but not offered (no STARTTLS)"), kind: authreport.ResultStartTLSNotSupported})
		}
	}
	conn.SetDeadline(time.Time{})
	pc := &prefixConn{Conn: conn, r: io.MultiReader(strings.NewReader("220 "+name+" ESMTP\r\n"), stream)}
	c := smtp.NewClient(pc)
	c.CommandTimeout = q.cfg.CommandTimeout
	c.SubmissionTimeout = q.cfg.DataTimeout
	if err := c.Hello(q.cfg.Hostname); err != nil {
		c.Close()
		return nil, err
	}
	if tlsInfo != "" {
		remote += ", " + tlsInfo
	}
	return &session{c: c, conn: pc, remote: remote, tls: tlsInfo != "", local: local}, nil
}

func tlsName(tc *tls.Conn) string {
	cs := tc.ConnectionState()
	return tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
}

func (q *Queue) tlsConfig(name string, verify bool, dh *daneHost) *tls.Config {
	c := &tls.Config{}
	if q.tls != nil {
		c = q.tls.Clone()
	}
	if net.ParseIP(name) == nil {
		c.ServerName = name
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12 // N1
	}
	// Opportunistic TLS encrypts without authenticating (RFC 7435): most MX
	// certificates would not verify, and refusing them would mean plaintext.
	c.InsecureSkipVerify = !verify
	if dh != nil {
		// The SNI is the TLSA base domain, the MX host (RFC 7672 8.1).
		c.ServerName = strings.TrimSuffix(name, ".")
		c.InsecureSkipVerify = true
		c.VerifyConnection = dh.verify(name)
	}
	return c
}

// protoErr turns a textproto reply into go-smtp's error type so that one
// classifier serves both.
func protoErr(err error) error {
	var pe *textproto.Error
	if !errors.As(err, &pe) {
		return err
	}
	se := &smtp.SMTPError{Code: pe.Code, Message: pe.Msg}
	if parts := strings.SplitN(pe.Msg, " ", 2); len(parts) == 2 {
		var e smtp.EnhancedCode
		if n, _ := fmt.Sscanf(parts[0], "%d.%d.%d", &e[0], &e[1], &e[2]); n == 3 {
			se.EnhancedCode, se.Message = e, parts[1]
		}
	}
	return se
}

// prefixConn serves a synthetic greeting before the real stream.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }
