package imapd

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/auth"
	"govmail/internal/delivery"
	"govmail/internal/filter"
	"govmail/internal/store"
)

// delim is the hierarchy delimiter: "Công văn/Đến" is "Đến" inside "Công văn".
const delim = '/'

// session is one connection. The library calls its methods one at a time from
// the connection's goroutine, except Idle, which runs beside the read of DONE and
// may still be running when Close is called.
type session struct {
	srv      *Server
	conn     *imapserver.Conn
	remoteIP string
	cork     *corkConn // nil when the listener was TLS already

	accountID int64
	user      string

	mu  sync.Mutex // guards sel against Idle's goroutine; the command goroutine reads it freely
	sel *view
}

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
)

// fail turns err into the client's reply and logs what the client cannot act on.
func (s *session) fail(op string, err error) error {
	reply, internal := imapError(err, s.utf8())
	if internal {
		s.srv.log.Error("imap command failed", "op", op, "user", s.user, "ip", s.remoteIP, "err", err)
	}
	return reply
}

// utf8 tells whether the client enabled UTF-8 in responses (RFC 9051, RFC 6855).
func (s *session) utf8() bool {
	caps := s.conn.EnabledCaps()
	return caps.Has(imap.CapIMAP4rev2) || caps.Has(imap.CapUTF8Accept)
}

// Close releases the selected mailbox; the connection is gone.
func (s *session) Close() error {
	s.srv.mu.Lock()
	delete(s.srv.live, s)
	s.srv.mu.Unlock()
	s.unselect()
	s.srv.sessions.Done()
	return nil
}

// Login serves LOGIN and AUTHENTICATE PLAIN (the library runs SASL PLAIN and
// calls Login; both are refused without TLS before reaching here).
func (s *session) Login(username, password string) error {
	a, err := s.srv.auth.Login(s.srv.ctx, auth.Request{Proto: "imap", Username: username, Password: password, RemoteIP: s.remoteIP})
	if err != nil {
		return s.fail("login", err)
	}
	s.accountID, s.user = a.ID, a.Address
	s.srv.mu.Lock()
	s.srv.live[s] = struct{}{}
	s.srv.mu.Unlock()
	return nil
}

// AppendLimit is advertised as APPENDLIMIT=n and enforced by the library before
// the literal is read.
func (s *session) AppendLimit() uint32 { return s.srv.appendLimit }

// canonName makes INBOX case-insensitive as the store does (RFC 3501 5.1), so that
// names compare equal here too.
func canonName(name string) string {
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == delim) {
		return "INBOX" + name[5:]
	}
	return name
}

// cleanName checks a name a client wants to create. The library has already
// decoded modified UTF-7 (or taken raw UTF-8 under UTF8=ACCEPT), so names are
// UTF-8 here and in the store, and are kept as the client wrote them (R3.3).
func cleanName(name string) (string, error) {
	// RFC 3501 6.3.3: a trailing delimiter declares the intent to create children.
	name = canonName(strings.TrimRight(name, string(delim)))
	if name == "" || strings.HasPrefix(name, string(delim)) || strings.Contains(name, "//") {
		return "", fmt.Errorf("%q: %w", name, errBadName)
	}
	for _, r := range name {
		// Wildcards could never be listed exactly; controls break clients.
		if r == '*' || r == '%' || r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%q: %w", name, errBadName)
		}
	}
	return name, nil
}

// parents lists the superior names of name, outermost first.
func parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == delim {
			out = append(out, name[:i])
		}
	}
	return out
}

// createParents creates missing superior names (RFC 3501 6.3.3: the server
// SHOULD), so that the hierarchy stays navigable with LIST "%".
func (s *session) createParents(t target) error {
	for _, p := range parents(t.folder) {
		if _, err := s.srv.store.MailboxByName(s.srv.ctx, t.accountID, p); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := s.srv.store.CreateMailbox(s.srv.ctx, t.accountID, p, ""); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}

// specialUse checks an attribute CREATE-SPECIAL-USE asks for: those of the
// default folders (RFC 6154) are accepted; \All and \Flagged would need virtual
// mailboxes.
func specialUse(a imap.MailboxAttr) (string, bool) {
	for _, u := range []imap.MailboxAttr{imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash, imap.MailboxAttrJunk, imap.MailboxAttrArchive} {
		if strings.EqualFold(string(a), string(u)) {
			return string(u), true
		}
	}
	return "", false
}

func (s *session) Create(name string, options *imap.CreateOptions) error {
	name, err := cleanName(name)
	if err != nil {
		return s.fail("create", err)
	}
	use := ""
	if options != nil && len(options.SpecialUse) > 0 {
		var ok bool
		if use, ok = specialUse(options.SpecialUse[0]); !ok || len(options.SpecialUse) > 1 {
			return s.fail("create", errBadUse)
		}
	}
	t, err := s.resolve(name)
	if err != nil {
		return s.fail("create", err)
	}
	if err := s.createParents(t); err != nil {
		return s.fail("create", err)
	}
	if _, err := s.srv.store.CreateMailbox(s.srv.ctx, t.accountID, t.folder, use); err != nil {
		return s.fail("create", err)
	}
	return nil
}

// Delete refuses a mailbox with sub-folders (RFC 9051 HASCHILDREN) rather than
// leaving them under a name that no longer exists.
func (s *session) Delete(name string) error {
	t, err := s.resolve(name)
	if err != nil {
		return s.fail("delete", err)
	}
	mbs, err := s.srv.store.ListMailboxes(s.srv.ctx, t.accountID)
	if err != nil {
		return s.fail("delete", err)
	}
	for _, mb := range mbs {
		if strings.HasPrefix(mb.Name, t.folder+string(delim)) {
			return s.fail("delete", errHasChildren)
		}
	}
	if err := s.srv.store.DeleteMailbox(s.srv.ctx, t.accountID, t.folder); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

// Rename renames a mailbox and its sub-folders; sessions that have it selected
// keep it (the store keeps the mailbox's id and UIDVALIDITY).
func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) error {
	newName, err := cleanName(newName)
	if err != nil {
		return s.fail("rename", err)
	}
	from, err := s.resolve(oldName)
	if err != nil {
		return s.fail("rename", err)
	}
	to, err := s.resolve(newName)
	if err != nil {
		return s.fail("rename", err)
	}
	if from.accountID != to.accountID {
		return s.fail("rename", fmt.Errorf("rename across mailboxes: %w", errBadName))
	}
	if _, err := s.srv.store.MailboxByName(s.srv.ctx, from.accountID, from.folder); err != nil {
		return s.fail("rename", err)
	}
	if err := s.createParents(to); err != nil {
		return s.fail("rename", err)
	}
	if err := s.srv.store.RenameMailbox(s.srv.ctx, from.accountID, from.folder, to.folder); err != nil {
		return s.fail("rename", err)
	}
	return nil
}

func (s *session) Subscribe(name string) error {
	t, err := s.resolve(name)
	if err != nil {
		return s.fail("subscribe", err)
	}
	if err := s.srv.store.SetSubscribed(s.srv.ctx, t.accountID, t.folder, true); err != nil {
		return s.fail("subscribe", err)
	}
	return nil
}

func (s *session) Unsubscribe(name string) error {
	t, err := s.resolve(name)
	if err != nil {
		return s.fail("unsubscribe", err)
	}
	if err := s.srv.store.SetSubscribed(s.srv.ctx, t.accountID, t.folder, false); err != nil {
		return s.fail("unsubscribe", err)
	}
	return nil
}

// listEntry is a name LIST may show: a mailbox, or a superior name that has no
// mailbox of its own (shown \Noselect so the hierarchy stays navigable).
type listEntry struct {
	mb                 *store.Mailbox // nil for a bare superior name
	children           bool
	subscribedInferior bool
}

func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) (err error) {
	s.cork.cork()
	defer func() {
		if uerr := s.cork.uncork(); err == nil && uerr != nil {
			err = uerr
		}
	}()
	if len(patterns) == 0 {
		// LIST "" "": the delimiter and the root (RFC 3501 6.3.8).
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	mbs, err := s.srv.store.ListMailboxes(s.srv.ctx, s.accountID)
	if err != nil {
		return s.fail("list", err)
	}
	shared, err := s.sharedMailboxes()
	if err != nil {
		return s.fail("list", err)
	}
	mbs = slices.DeleteFunc(mbs, func(m store.Mailbox) bool { return filter.IsHidden(m.Name) })
	mbs = append(mbs, shared...)
	entries := make(map[string]*listEntry, len(mbs))
	for i := range mbs {
		entries[mbs[i].Name] = &listEntry{mb: &mbs[i]}
	}
	for i := range mbs {
		for _, p := range parents(mbs[i].Name) {
			e := entries[p]
			if e == nil {
				e = &listEntry{}
				entries[p] = e
			}
			if mbs[i].Subscribed {
				e.subscribedInferior = true
			}
		}
	}
	for name := range entries {
		if ps := parents(name); len(ps) > 0 {
			entries[ps[len(ps)-1]].children = true
		}
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		// INBOX first, as clients expect; then by name.
		switch {
		case a == "INBOX":
			return -1
		case b == "INBOX":
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		if !listMatch(name, ref, patterns) {
			continue
		}
		e := entries[name]
		subscribed := e.mb != nil && e.mb.Subscribed
		data := imap.ListData{Delim: delim, Mailbox: name}
		if options.SelectSubscribed && !subscribed {
			// RFC 5258 RECURSIVEMATCH: a parent of subscribed mailboxes is
			// listed with CHILDINFO.
			if !options.SelectRecursiveMatch || !e.subscribedInferior {
				continue
			}
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if options.SelectSpecialUse && (e.mb == nil || e.mb.SpecialUse == "") {
			continue
		}
		if e.mb == nil {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		}
		if e.children {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if subscribed && (options.ReturnSubscribed || options.SelectSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		// Special-use attributes go out on every LIST, not only with RETURN
		// (SPECIAL-USE): Thunderbird and phones look for them in a plain LIST.
		if e.mb != nil && e.mb.SpecialUse != "" {
			data.Attrs = append(data.Attrs, imap.MailboxAttr(e.mb.SpecialUse))
		}
		if options.ReturnStatus != nil && e.mb != nil {
			st, err := s.srv.store.MailboxStatus(s.srv.ctx, e.mb.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return s.fail("list", err)
			}
			if st != nil {
				if data.Status, err = s.statusData(name, st, options.ReturnStatus); err != nil {
					return s.fail("list", err)
				}
			}
		}
		if err := w.WriteList(&data); err != nil {
			return err
		}
	}
	return nil
}

// listMatch applies the LIST patterns; INBOX matches in any case (RFC 3501 5.1).
func listMatch(name, ref string, patterns []string) bool {
	for _, p := range patterns {
		if imapserver.MatchList(name, delim, ref, p) {
			return true
		}
		if strings.HasPrefix(name, "INBOX") && imapserver.MatchList(name, delim, canonName(ref), canonName(p)) {
			return true
		}
	}
	return false
}

func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	mb, t, err := s.mailbox(name)
	if err != nil {
		return nil, s.fail("status", err)
	}
	st, err := s.srv.store.MailboxStatus(s.srv.ctx, mb.ID)
	if err != nil {
		return nil, s.fail("status", err)
	}
	data, err := s.statusData(t.prefix+mb.Name, st, options)
	if err != nil {
		return nil, s.fail("status", err)
	}
	return data, nil
}

// statusData fills every item the client asked for: the library dereferences
// the pointers of requested items.
func (s *session) statusData(name string, st *store.MailboxStatus, o *imap.StatusOptions) (*imap.StatusData, error) {
	if o.DeletedStorage {
		return nil, fmt.Errorf("STATUS DELETED-STORAGE: %w", errUnsupported) // QUOTA is not offered
	}
	d := &imap.StatusData{Mailbox: name, UIDNext: imap.UID(st.UIDNext), UIDValidity: st.UIDValidity}
	ptr := func(v uint32) *uint32 { return &v }
	if o.NumMessages {
		d.NumMessages = ptr(st.Messages)
	}
	if o.NumUnseen {
		d.NumUnseen = ptr(st.Unseen)
	}
	if o.NumDeleted {
		d.NumDeleted = ptr(st.Deleted)
	}
	if o.NumRecent {
		d.NumRecent = ptr(0) // \Recent is not kept
	}
	if o.Size {
		size := st.Size
		d.Size = &size
	}
	if o.AppendLimit {
		d.AppendLimit = ptr(s.srv.appendLimit)
	}
	return d, nil
}

// Append stores the message and answers only after the store has committed and
// synced it (DESIGN decision 5: an OK to APPEND means on disk). The message is
// parsed here once, like a delivery, so FETCH never parses it again.
func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	mb, _, err := s.mailbox(mailbox)
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("%w: %w", errDestMissing, err)
	}
	if err != nil {
		return nil, s.fail("append", err)
	}
	// The library has checked the size against AppendLimit.
	raw := make([]byte, r.Size())
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("append: read literal: %w", err) // the connection is broken
	}
	date := options.Time
	if date.IsZero() {
		date = s.srv.clock.Now()
	}
	nm, _ := delivery.Prepare(raw, date)
	uid, err := s.srv.store.Append(s.srv.ctx, mb.ID, nm, flagStrings(options.Flags))
	if err != nil {
		return nil, s.fail("append", err)
	}
	return &imap.AppendData{UID: imap.UID(uid), UIDValidity: mb.UIDValidity}, nil
}

// flagStrings converts flags for the store; \Recent belongs to the server.
func flagStrings(flags []imap.Flag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if !strings.EqualFold(string(f), `\Recent`) {
			out = append(out, string(f))
		}
	}
	return out
}
