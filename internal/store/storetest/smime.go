package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"govmail/internal/store"
)

// RunSMIME checks store.SMIMEStore: none, stored, replaced, per account, gone
// with the account's row.
func RunSMIME(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	a := mustAccount(t, s, "ky.so@sonla.gov.vn", 1<<20)
	b := mustAccount(t, s, "khac@sonla.gov.vn", 1<<20)
	if _, _, err := s.SMIMEIdentity(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no identity: %v", err)
	}
	if err := s.PutSMIMEIdentity(ctx, a.ID, []byte("CERT1"), []byte{0, 1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	c, k, err := s.SMIMEIdentity(ctx, a.ID)
	if err != nil || string(c) != "CERT1" || !bytes.Equal(k, []byte{0, 1, 2, 255}) {
		t.Fatalf("stored: %q %v %v", c, k, err)
	}
	if err := s.PutSMIMEIdentity(ctx, a.ID, []byte("CERT2"), []byte{9}); err != nil {
		t.Fatal(err)
	}
	if c, k, err := s.SMIMEIdentity(ctx, a.ID); err != nil || string(c) != "CERT2" || !bytes.Equal(k, []byte{9}) {
		t.Fatalf("replaced: %q %v %v", c, k, err)
	}
	if _, _, err := s.SMIMEIdentity(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's identity: %v", err)
	}
}
