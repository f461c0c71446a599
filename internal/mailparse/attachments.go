package mailparse

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Attachment is one attached file as the structure describes it.
type Attachment struct {
	Name string
	Size int64 // decoded size, estimated from the transfer encoding
}

// LargestAttachment finds the largest attachment of a parsed message, for the
// optional per-attachment limit of R11.5. Inline text parts are not attachments.
func LargestAttachment(p *Parsed) (Attachment, bool) {
	var best Attachment
	found := false
	if p == nil || p.BodyStructure == nil {
		return best, false
	}
	p.BodyStructure.Walk(func(path []int, part imap.BodyStructure) bool {
		sp, ok := part.(*imap.BodyStructureSinglePart)
		if !ok {
			return true
		}
		name := sp.Filename()
		disp := ""
		if sp.Extended != nil && sp.Extended.Disposition != nil {
			disp = strings.ToLower(sp.Extended.Disposition.Value)
		}
		if name == "" && disp != "attachment" {
			return true
		}
		size := int64(sp.Size)
		if strings.EqualFold(sp.Encoding, "base64") {
			// 76 characters and CRLF per line, 3 bytes per 4 characters.
			size = size * 57 / 78
		}
		if !found || size > best.Size {
			best, found = Attachment{Name: name, Size: size}, true
		}
		return true
	})
	return best, found
}
