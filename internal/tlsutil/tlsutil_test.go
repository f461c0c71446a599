package tlsutil

import (
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if created, err := EnsureSelfSigned(cf, kf, "mail.sonla.gov.vn"); err != nil || !created {
		t.Fatal(created, err)
	}
	r, err := NewReloader(cf, kf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.check = 0
	c1, _ := r.GetCertificate(nil)
	cp, kp, _ := SelfSigned("mail2.sonla.gov.vn", time.Now(), time.Hour)
	os.WriteFile(cf, cp, 0o644)
	os.WriteFile(kf, kp, 0o600)
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(cf, later, later)
	c2, _ := r.GetCertificate(nil)
	if c2 == c1 || c2.Leaf == nil && c2 == nil {
		t.Fatal("certificate not reloaded")
	}
	// A broken replacement keeps the working certificate.
	os.WriteFile(cf, []byte("junk"), 0o644)
	later = later.Add(2 * time.Second)
	os.Chtimes(cf, later, later)
	c3, _ := r.GetCertificate(nil)
	if c3 != c2 {
		t.Fatal("broken certificate replaced a working one")
	}
}

// N1: TLS older than 1.2 is refused.
func TestTLSFloorN1(t *testing.T) {
	cp, kp, _ := SelfSigned("localhost", time.Now(), time.Hour)
	cert, _ := tls.X509KeyPair(cp, kp)
	cfg := ServerConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
