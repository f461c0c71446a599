// Package held owns what operators do with mail the prohibited-use policy held
// (R4.2, R4.3): list it across accounts, release a message into its owner's
// INBOX, or delete it. Every step is in the audit log. Holding itself is
// delivery's (internal/filter decides, delivery files).
package held

import (
	"context"
	"fmt"
	"log/slog"

	"govmail/internal/clock"
	"govmail/internal/mailparse"
	"govmail/internal/store"
)

// Service acts on held mail.
type Service struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
}

// Item is a held message as operators see it.
type Item struct {
	store.HeldMessage
	From, Subject string
}

// List returns held mail, newest first.
func (s *Service) List(ctx context.Context, limit int) ([]Item, error) {
	hs, err := s.Store.HeldMessages(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Item, len(hs))
	for i, h := range hs {
		out[i].HeldMessage = h
		if env, err := mailparse.DecodeEnvelope(h.Meta); err == nil && env != nil {
			out[i].Subject = env.Subject
			if len(env.From) > 0 {
				out[i].From = env.From[0].Addr()
			}
		}
	}
	return out, nil
}

func (s *Service) find(ctx context.Context, address string, uid uint32) (*store.Account, *store.Mailbox, error) {
	a, err := s.Store.AccountByAddress(ctx, address)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", address, err)
	}
	q, err := s.Store.MailboxByName(ctx, a.ID, store.HeldFolder)
	if err != nil {
		return nil, nil, fmt.Errorf("%s has no held mail: %w", address, err)
	}
	msgs, err := s.Store.MessagesByUID(ctx, q.ID, []uint32{uid}, false)
	if err != nil {
		return nil, nil, err
	}
	if len(msgs) == 0 {
		return nil, nil, fmt.Errorf("held message %d of %s: %w", uid, address, store.ErrNotFound)
	}
	return a, q, nil
}

// Release moves a held message into its owner's INBOX.
func (s *Service) Release(ctx context.Context, address string, uid uint32, actor string) error {
	a, q, err := s.find(ctx, address, uid)
	if err != nil {
		return err
	}
	in, err := s.Store.MailboxByName(ctx, a.ID, "INBOX")
	if err != nil {
		return err
	}
	if _, err := s.Store.Move(ctx, q.ID, []uint32{uid}, in.ID); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return s.Store.AppendAudit(ctx, store.AuditEntry{Time: s.Clock.Now(), Actor: actor, Action: "held.release", Target: a.Address, Detail: fmt.Sprintf("uid %d", uid)})
}

// Drop deletes a held message for good.
func (s *Service) Drop(ctx context.Context, address string, uid uint32, actor string) error {
	a, q, err := s.find(ctx, address, uid)
	if err != nil {
		return err
	}
	if _, err := s.Store.Expunge(ctx, q.ID, []uint32{uid}); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	return s.Store.AppendAudit(ctx, store.AuditEntry{Time: s.Clock.Now(), Actor: actor, Action: "held.drop", Target: a.Address, Detail: fmt.Sprintf("uid %d", uid)})
}
