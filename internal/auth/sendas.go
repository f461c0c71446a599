package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
			// R8.2: a delegate's access counts as a login of the unit mailbox.
			if err := s.Store.RecordLogin(ctx, box.ID, s.Clock.Now()); err != nil {
				return nil, err
			}
			return box, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", from, ErrSendAs)
}
