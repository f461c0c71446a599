package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"govmail/internal/store"
)

// ErrSendAs is wrapped when a person may not send as an address.
var ErrSendAs = errors.New("auth: may not send as this address")

// SendAs decides whether the logged-in account may use from as its sender
// (Điều 9.2–9.3): its own address, or a unit mailbox it is a delegate of
// (R9.1). It returns the mailbox being sent as. A locked mailbox sends nothing,
// not through delegates either (R8.1).
func (s *Service) SendAs(ctx context.Context, who *store.Account, from string) (*store.Account, error) {
	if strings.EqualFold(from, who.Address) {
		return who, nil
	}
	box, err := s.Store.AccountByAddress(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, ErrSendAs)
	}
	ds, err := s.Store.DelegatedTo(ctx, who.ID)
	if err != nil {
		return nil, fmt.Errorf("send as: %w", err)
	}
	for _, d := range ds {
		if d.UnitAccountID == box.ID {
			if box.State != store.StateActive {
				return nil, &Error{Code: "locked", base: ErrLocked,
					VI: "Hộp thư đơn vị đang bị khóa, không thể gửi thư (Điều 8.1).",
					EN: "The unit mailbox is locked; nothing can be sent from it (Article 8.1)."}
			}
			if err := s.DelegateAccess(ctx, box); err != nil {
				return nil, err
			}
			return box, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", from, ErrSendAs)
}

// delegateLoginEvery bounds how often a delegate's use of a unit mailbox is
// written as its login: R8.2 counts days without a login, while a webmail
// page or a client polling STATUS uses the mailbox many times a minute.
const delegateLoginEvery = time.Minute

// DelegateAccess records a delegate's access to a unit mailbox as a login of
// that mailbox (R8.2), for webmail, IMAP and sending as the unit alike.
func (s *Service) DelegateAccess(ctx context.Context, unit *store.Account) error {
	now := s.Clock.Now()
	if now.Sub(unit.LastLoginAt) < delegateLoginEvery {
		return nil
	}
	if err := s.Store.RecordLogin(ctx, unit.ID, now); err != nil {
		return err
	}
	unit.LastLoginAt = now
	return nil
}
