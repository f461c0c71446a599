package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"govmail/internal/delivery"
	"govmail/internal/queue"
)

// smimeSecret is the server secret that seals users' S/MIME private keys at
// rest; it is made once in the data directory (mode 0600) and backed up with it.
func smimeSecret(dataDir string) ([]byte, error) {
	p := filepath.Join(dataDir, "smime.key")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b[:32], nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("smime secret: %w", err)
	}
	return b, nil
}

// smimeRoots loads the configured trust anchors for S/MIME (N2).
func smimeRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("security.smime_roots: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("security.smime_roots: no certificate in %s", path)
	}
	return pool, nil
}

// sendVacation delivers an out-of-office reply: to a local mailbox through
// delivery, elsewhere through the queue.
func (a *App) sendVacation(ctx context.Context, from, to string, raw []byte) error {
	if acct, err := a.Store.ResolveAddress(ctx, to, a.Clock.Now()); err == nil {
		_, err := a.Deliver.Deliver(ctx, &delivery.Envelope{From: from, Recipients: []delivery.Recipient{{Address: to, AccountID: acct.ID}},
			ClientIP: "127.0.0.1", ClientHelo: "vacation", Proto: delivery.ProtoSystem, Direction: "internal", AuthUser: from}, bytes.NewReader(raw))
		return err
	}
	if a.queue == nil {
		return fmt.Errorf("vacation reply to %s: outbound delivery is off", to)
	}
	if _, err := a.queue.Submit(ctx, &queue.Submission{From: from, Recipients: []queue.Recipient{{Address: to}}, AuthUser: from,
		ClientHelo: "vacation", Proto: "LOCAL", Body: raw}); err != nil {
		return err
	}
	a.queue.Wake()
	return nil
}
