package imapd

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"govmail/internal/store"
)

// Every sentinel of the store and of this package has its reply, in one function
// (auth's are proven end to end in TestLoginRefusalCodes); unknown errors are
// SERVERBUG and reported as internal.
func TestImapErrorMapsEverySentinel(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("op: %w", err) }
	cases := []struct {
		name     string
		err      error
		code     imap.ResponseCode
		internal bool
	}{
		{"store.ErrNotFound", wrapped(store.ErrNotFound), imap.ResponseCodeNonExistent, false},
		{"store.ErrExists", wrapped(store.ErrExists), imap.ResponseCodeAlreadyExists, false},
		{"store.ErrQuotaExceeded", wrapped(store.ErrQuotaExceeded), imap.ResponseCodeOverQuota, false},
		{"store.ErrMailboxInvalid", wrapped(store.ErrMailboxInvalid), imap.ResponseCodeCannot, false},
		{"missing destination wins over not found", fmt.Errorf("%w: %w", errDestMissing, store.ErrNotFound), imap.ResponseCodeTryCreate, false},
		{"has children", errHasChildren, imap.ResponseCodeHasChildren, false},
		{"read-only", errReadOnly, imap.ResponseCodeCannot, false},
		{"store closed", wrapped(store.ErrClosed), imap.ResponseCodeUnavailable, true},
		{"context canceled", wrapped(context.Canceled), imap.ResponseCodeUnavailable, true},
		{"unknown", fmt.Errorf("disk on fire"), imap.ResponseCodeServerBug, true},
		{"an *imap.Error passes through", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTooBig}, imap.ResponseCodeTooBig, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply, internal := imapError(tc.err, false)
			if reply.Code != tc.code || internal != tc.internal {
				t.Errorf("imapError(%v) = %q internal=%v, want %q internal=%v", tc.err, reply.Code, internal, tc.code, tc.internal)
			}
			if reply.Type != imap.StatusResponseTypeNo {
				t.Errorf("type %s, want NO", reply.Type)
			}
			if tc.code != imap.ResponseCodeTooBig && !strings.Contains(reply.Text, " / ") {
				t.Errorf("text %q lacks the Vietnamese / English pair", reply.Text)
			}
		})
	}
}

// Before ENABLE the Vietnamese text loses only its diacritics.
func TestASCIIText(t *testing.T) {
	cases := map[string]string{
		"Hộp thư đã vượt hạn mức (Điều 11).": "Hop thu da vuot han muc (Dieu 11).",
		"Đảng ủy":           "Dang uy",
		"plain ASCII, kept": "plain ASCII, kept",
		"emoji 😀":           "emoji ?",
	}
	for in, want := range cases {
		if got := asciiText(in); got != want {
			t.Errorf("asciiText(%q) = %q, want %q", in, got, want)
		}
	}
}
