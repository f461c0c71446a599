package web

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// dmarcFailed tells the read view to warn of a failed DMARC check (R17.3). Only
// the topmost Authentication-Results field with our authserv-id counts: we
// prepend ours at delivery, so one lower down, or naming another server, may
// have been written by the sender to look trustworthy (RFC 8601 section 5).
func dmarcFailed(raw []byte, authServID string) bool {
	if authServID == "" {
		return false
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil && h.Len() == 0 {
		return false
	}
	fields := h.FieldsByKey("Authentication-Results")
	for fields.Next() {
		id, results, err := authres.Parse(fields.Value())
		if err != nil || !strings.EqualFold(id, authServID) {
			continue
		}
		for _, r := range results {
			if d, ok := r.(*authres.DMARCResult); ok && d.Value == authres.ResultFail {
				return true
			}
		}
		return false
	}
	return false
}
