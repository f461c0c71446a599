package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/dkim"
	"govmail/internal/queue"
)

// DKIMDir is where the DKIM keys live inside the data directory.
func dkimDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "dkim") }

// cmdAdminDNS prints the DNS records every mail domain needs, making the DKIM
// keys first if there are none yet; --rotate and --retire step a key rotation.
func cmdAdminDNS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin dns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	ip4 := fs.String("ip4", "", "public IPv4 address of this server (for SPF and the host's A record)")
	ip6 := fs.String("ip6", "", "public IPv6 address of this server (N5: AAAA and SPF)")
	rotate := fs.Bool("rotate", false, "DKIM rotation step: publish a next key pair, or switch to the published one")
	retire := fs.Bool("retire", false, "DKIM rotation step: drop the keys retired by the last switch")
	ttl := fs.Int("ttl", 3600, "TTL of the printed records")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	cfg, err := df.load(stdout)
	if err != nil {
		return err
	}
	domains := cfg.Domains
	if len(pos) > 0 {
		domains = pos
		for _, d := range domains {
			if !localAddress(cfg, "x@"+d) {
				return fmt.Errorf("%s is not one of our domains (%s)", d, strings.Join(cfg.Domains, ", "))
			}
		}
	}
	kr, err := dkim.Open(dkimDir(cfg))
	if err != nil {
		return err
	}
	now := clock.Real{}.Now()
	made, err := kr.Ensure(domains, now)
	if err != nil {
		return err
	}
	for _, k := range made {
		fmt.Fprintf(stderr, "Đã tạo khoá DKIM / created DKIM key %s (%s) for %s\n", k.Selector, k.Algorithm, k.Domain)
	}
	for _, d := range domains {
		switch {
		case *rotate && *retire:
			return errors.New("--rotate and --retire are separate steps")
		case *rotate:
			changed, err := kr.Rotate(d, now)
			if err != nil {
				return err
			}
			for _, k := range changed {
				fmt.Fprintf(stderr, "%s: %s is now %s\n", d, k.Selector, k.State)
			}
			if len(changed) > 0 && changed[0].State == dkim.StateNext {
				fmt.Fprintln(stderr, "Publish the records below, wait until DNS serves them (a day), then run --rotate again.")
			} else {
				fmt.Fprintln(stderr, "Signing now uses the new keys. After a week, run --retire and remove the old records.")
			}
		case *retire:
			gone, err := kr.Retire(d)
			if err != nil {
				return err
			}
			for _, k := range gone {
				fmt.Fprintf(stderr, "%s: retired %s; remove the record %s\n", d, k.Selector, k.DNSName())
			}
		}
	}
	for _, d := range domains {
		writeZone(stdout, cfg, kr, d, *ip4, *ip6, *ttl)
	}
	writeTLSA(stdout, cfg, *ttl)
	return nil
}

// writeTLSA prints the DANE record of our MX host (RFC 7672: DANE-EE, the
// SHA-256 of the certificate's public key), for zones signed with DNSSEC. It
// names the key, not the certificate, so renewing the certificate with the
// same key keeps it valid.
func writeTLSA(w io.Writer, cfg config.Config, ttl int) {
	certFile, _ := app.CertFiles(cfg)
	data, err := os.ReadFile(certFile)
	if err != nil {
		fmt.Fprintf(w, "; DANE (RFC 7672): no certificate at %s yet; run again after the first start\n", certFile)
		return
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		fmt.Fprintf(w, "; DANE (RFC 7672): %s holds no PEM certificate\n", certFile)
		return
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		fmt.Fprintf(w, "; DANE (RFC 7672): %s: %v\n", certFile, err)
		return
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	fmt.Fprintf(w, "; ---- %s ----\n", cfg.Hostname)
	fmt.Fprintf(w, "; DANE (RFC 7672), chỉ khi vùng DNS đã ký DNSSEC / only in a DNSSEC-signed zone.\n")
	fmt.Fprintf(w, "; Đổi khoá chứng thư: công bố bản ghi của khoá mới trước / before changing the key, publish the new key's record too.\n")
	fmt.Fprintf(w, "_25._tcp.%s. %d IN TLSA 3 1 1 %s\n", cfg.Hostname, ttl, hex.EncodeToString(sum[:]))
}

func writeZone(w io.Writer, cfg config.Config, kr *dkim.Keyring, d, ip4, ip6 string, ttl int) {
	host := cfg.Hostname
	fmt.Fprintf(w, "; ---- %s ----\n", d)
	fmt.Fprintf(w, "; Thư đến / inbound mail\n")
	fmt.Fprintf(w, "%s. %d IN MX 10 %s.\n", d, ttl, host)
	if ip4 != "" {
		fmt.Fprintf(w, "%s. %d IN A %s\n", host, ttl, ip4)
	}
	if ip6 != "" {
		fmt.Fprintf(w, "%s. %d IN AAAA %s\n", host, ttl, ip6)
	}
	if ip4 == "" && ip6 == "" {
		fmt.Fprintf(w, "; %s needs A and AAAA records (N5): give --ip4 and --ip6\n", host)
	}
	spf := "v=spf1 mx"
	if ip4 != "" {
		spf += " ip4:" + ip4
	}
	if ip6 != "" {
		spf += " ip6:" + ip6
	}
	spf += " -all"
	fmt.Fprintf(w, "; SPF (RFC 7208): only our MX host sends for %s\n", d)
	fmt.Fprintf(w, "%s. %d IN TXT \"%s\"\n", d, ttl, spf)
	fmt.Fprintf(w, "; DKIM (RFC 6376, RFC 8463): every key in use or in rotation\n")
	for _, k := range kr.Keys(d) {
		fmt.Fprintf(w, "; %s %s, %s since %s\n", k.Selector, k.Algorithm, k.State, k.Created.Format("2006-01-02"))
		fmt.Fprintln(w, k.ZoneTXT(ttl))
	}
	fmt.Fprintf(w, "; DMARC (RFC 7489): mail failing SPF and DKIM alignment goes to Junk; reports to postmaster\n")
	fmt.Fprintf(w, "_dmarc.%s. %d IN TXT \"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@%s\"\n", d, ttl, d)
	pol := queue.OwnPolicy(host)
	fmt.Fprintf(w, "; MTA-STS (RFC 8461): senders must use verified TLS to %s\n", host)
	fmt.Fprintf(w, "_mta-sts.%s. %d IN TXT \"v=STSv1; id=%s\"\n", d, ttl, pol.PolicyID())
	fmt.Fprintf(w, "mta-sts.%s. %d IN CNAME %s.\n", d, ttl, host)
	fmt.Fprintf(w, "; served by govmail at https://mta-sts.%s/.well-known/mta-sts.txt (the certificate must name mta-sts.%s):\n", d, d)
	for _, l := range strings.Split(strings.TrimSpace(pol.Text()), "\r\n") {
		fmt.Fprintf(w, ";   %s\n", l)
	}
	fmt.Fprintf(w, "; TLS reporting (RFC 8460)\n")
	fmt.Fprintf(w, "_smtp._tls.%s. %d IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@%s\"\n", d, ttl, d)
	fmt.Fprintf(w, "; Cấu hình tự động cho ứng dụng thư / client autoconfiguration (RFC 6186, RFC 8314)\n")
	fmt.Fprintf(w, "autoconfig.%s. %d IN CNAME %s.\n", d, ttl, host)
	fmt.Fprintf(w, "autodiscover.%s. %d IN CNAME %s.\n", d, ttl, host)
	for _, s := range []struct {
		svc  string
		port int
	}{{"submissions", 465}, {"submission", 587}, {"imaps", 993}, {"imap", 143}, {"pop3s", 995}, {"pop3", 110}} {
		prio := 0
		if s.svc == "submission" || s.svc == "imap" || s.svc == "pop3" {
			prio = 10 // implicit TLS first (RFC 8314)
		}
		fmt.Fprintf(w, "_%s._tcp.%s. %d IN SRV %d 1 %d %s.\n", s.svc, d, ttl, prio, s.port, host)
	}
	fmt.Fprintln(w)
}
