package migrate

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/emersion/go-imap/v2"

	"govmail/internal/store"
	"govmail/internal/textfold"
)

// specialByName maps the folder names old systems and clients give the special
// folders, folded (textfold.Search: no marks, đ→d, lower case, punctuation as
// one space) so that "Thư đã gửi", "THU DA GUI" and an NFD spelling all match.
// Outlook's "Outbox" / "Hộp thư đi" is deliberately absent: it holds mail not
// yet sent, not sent mail. A switch rather than a map: no package state.
func specialByName(folded string) string {
	switch folded {
	case "sent", "sent items", "sent messages", "sent mail", "sent mails", "thu da gui", "da gui", "thu gui", "thu gui di":
		return store.SpecialSent
	case "drafts", "draft", "thu nhap", "nhap", "ban nhap", "thu soan":
		return store.SpecialDrafts
	case "trash", "deleted items", "deleted messages", "deleted", "bin", "thung rac", "thu da xoa", "da xoa":
		return store.SpecialTrash
	case "junk", "junk e mail", "junk email", "junk mail", "spam", "bulk mail", "thu rac", "thu spam", "thu quang cao":
		return store.SpecialJunk
	case "archive", "archives", "luu tru", "thu luu tru":
		return store.SpecialArchive
	}
	return ""
}

// specialTarget is our folder for each special use (store.DefaultMailboxes).
func specialTarget(special string) string {
	for _, m := range store.DefaultMailboxes {
		if m.SpecialUse == special && special != "" {
			return m.Name
		}
	}
	return ""
}

// folderPlan says where one source folder goes.
type folderPlan struct {
	Source  string // the source's name, UTF-8
	Target  string // our mailbox name, "/"-separated
	Special string // special use it maps to, if any
	Skip    string // non-empty: not copied, and why
}

// planFolder maps a source folder to ours. prefix is the personal namespace
// prefix ("INBOX." on Courier-style servers) and delim the source's hierarchy
// separator. The mapping is by the folder's SPECIAL-USE attribute first, then
// by its name: old clients created "Sent Items" or "Thư đã gửi" without any
// attribute, and their mail belongs in our Sent folder all the same.
func planFolder(name string, delim rune, attrs []imap.MailboxAttr, prefix string) folderPlan {
	p := folderPlan{Source: name}
	for _, a := range attrs {
		switch strings.ToLower(string(a)) {
		case `\noselect`, `\nonexistent`:
			p.Skip = "not a folder (\\Noselect)"
			return p
		case `\all`, `\flagged`, `\important`:
			// Gmail's "All Mail" and "Starred" and Dovecot's virtual folders show
			// messages that live in other folders: copying them would duplicate.
			p.Skip = "virtual folder (" + string(a) + "): its messages are copied from their own folders"
			return p
		}
	}
	rel := name
	if prefix != "" && !strings.EqualFold(name, "INBOX") && strings.HasPrefix(name, prefix) {
		rel = name[len(prefix):]
	}
	var parts []string
	if delim != 0 {
		parts = strings.Split(rel, string(delim))
	} else {
		parts = []string{rel}
	}
	clean := parts[:0]
	for _, part := range parts {
		if part == "" {
			continue
		}
		// "/" is our separator: inside a name of a "."-separated source it would
		// invent a sub-folder.
		if delim != '/' {
			part = strings.ReplaceAll(part, "/", "-")
		}
		clean = append(clean, part)
	}
	if len(clean) == 0 {
		clean = []string{"INBOX"}
	}
	if strings.EqualFold(clean[0], "INBOX") {
		clean[0] = "INBOX"
	}
	if len(clean) > 1 {
		// "Sent Items/2023" follows its parent into Sent.
		if sp := specialByName(textfold.Search(clean[0])); sp != "" {
			clean[0] = specialTarget(sp)
		}
	}
	p.Target = strings.Join(clean, "/")
	if p.Target == "INBOX" {
		return p
	}
	for _, a := range attrs {
		switch su := string(a); strings.ToLower(su) {
		case `\sent`, `\drafts`, `\trash`, `\junk`, `\archive`:
			for _, m := range store.DefaultMailboxes {
				if strings.EqualFold(m.SpecialUse, su) {
					p.Special = m.SpecialUse
				}
			}
		}
	}
	if p.Special == "" && len(clean) == 1 {
		p.Special = specialByName(textfold.Search(clean[0]))
	}
	if p.Special != "" {
		p.Target = specialTarget(p.Special)
	}
	return p
}

var errBadUTF7 = errors.New("invalid modified UTF-7")

// decodeMUTF7 decodes a modified UTF-7 name (RFC 3501 5.1.3), the encoding
// Dovecot and Courier use for Maildir++ folder names on disk. go-imap has the
// same decoder for the wire, but in an internal package.
func decodeMUTF7(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", errBadUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", errBadUTF7
		}
		enc := s[i+1 : i+1+j]
		i += j + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.ReplaceAll(enc, ",", "/"))
		if err != nil || len(raw)%2 != 0 {
			return "", errBadUTF7
		}
		units := make([]uint16, len(raw)/2)
		for k := range units {
			units[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == unicode.ReplacementChar {
				return "", errBadUTF7
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
