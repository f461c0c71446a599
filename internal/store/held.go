package store

import (
	"context"
	"time"
)

// HeldFolder is the hidden folder where the prohibited-use policy holds mail
// (R4.2, R4.3); users neither see nor make it, operators release from it.
const HeldFolder = "#Quarantine"

// HeldMessage is one message held in some account's quarantine.
type HeldMessage struct {
	AccountID    int64
	Address      string
	MailboxID    int64
	UID          uint32
	Size         int64
	InternalDate time.Time
	Meta         []byte
}

// HeldStore lists held mail across accounts for the operators.
type HeldStore interface {
	// HeldMessages lists held messages, newest first, at most limit.
	HeldMessages(ctx context.Context, limit int) ([]HeldMessage, error)
}
