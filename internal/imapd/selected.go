package imapd

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/store"
)

// systemFlags are the flags every mailbox supports (RFC 3501 2.3.2).
func systemFlags() []imap.Flag {
	return []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}
}

// Select opens a mailbox (SELECT, or EXAMINE when options.ReadOnly). The library
// has already unselected any previous mailbox.
func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	ctx := s.srv.ctx
	mb, t, err := s.mailbox(name)
	if err != nil {
		return nil, s.fail("select", err)
	}
	box, msgs, err := s.srv.boxes.acquire(ctx, mb.ID)
	if err != nil {
		return nil, s.fail("select", err)
	}
	// Flags in use and the first unseen message are not kept in memory (the
	// shared state holds UIDs only), so SELECT reads them: from the rows that
	// loaded the shared state when this SELECT loaded it (the usual case, one
	// session per folder), else in one indexed scan without message metadata.
	if msgs == nil {
		if msgs, _, err = s.srv.store.Messages(ctx, mb.ID, false); err != nil {
			s.srv.boxes.release(box)
			return nil, s.fail("select", err)
		}
	}
	flags := systemFlags()
	// The rows may be older than the shared state (events committed while it
	// loaded are in uids, not in them), so UNSEEN names the first unseen
	// message still in the mailbox, found under the lock below.
	var unseen []uint32
	for i := range msgs {
		m := &msgs[i]
		if !store.HasFlag(m.Flags, string(imap.FlagSeen)) {
			unseen = append(unseen, m.UID)
		}
		for _, f := range m.Flags {
			if !slices.ContainsFunc(flags, func(g imap.Flag) bool { return strings.EqualFold(string(g), f) }) {
				flags = append(flags, imap.Flag(f))
			}
		}
	}

	box.mu.RLock()
	// Under the read lock no update can slip between the count the client is
	// given and the start of its tracker.
	st := box.tracker.NewSession()
	data := &imap.SelectData{
		Flags:       flags,
		NumMessages: uint32(len(box.uids)),
		UIDNext:     imap.UID(mb.UIDNext),
		UIDValidity: mb.UIDValidity,
	}
	if n := len(box.uids); n > 0 && box.uids[n-1] >= mb.UIDNext {
		// A message arrived between reading the mailbox row and now: UIDNEXT
		// must stay above every UID the client is told about.
		data.UIDNext = imap.UID(box.uids[n-1] + 1)
	}
	for _, uid := range unseen {
		if i, ok := slices.BinarySearch(box.uids, uid); ok {
			data.FirstUnseenSeqNum = uint32(i + 1)
			break
		}
	}
	box.mu.RUnlock()

	if !options.ReadOnly {
		// \* : clients may create keywords ($Forwarded, $Junk, labels).
		data.PermanentFlags = append(systemFlags(), imap.FlagWildcard)
	}
	v := &view{box: box, st: st, id: mb.ID, accountID: t.accountID, readOnly: options.ReadOnly, special: mb.SpecialUse}
	s.mu.Lock()
	s.sel = v
	s.mu.Unlock()
	return data, nil
}

func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func (s *session) unselect() {
	s.mu.Lock()
	v := s.sel
	s.sel = nil
	s.mu.Unlock()
	if v != nil {
		v.st.Close()
		s.srv.boxes.release(v.box)
	}
}

// Poll sends what changed since the last command; the library calls it after
// each command, with expunges held back after FETCH, STORE and SEARCH.
func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	s.cork.cork()
	err := s.sel.st.Poll(w, allowExpunge)
	if uerr := s.cork.uncork(); err == nil {
		err = uerr
	}
	return err
}

// Idle waits for updates of the selected mailbox; the store's change feed wakes
// it through the tracker as soon as a change commits.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	s.mu.Lock()
	v := s.sel
	s.mu.Unlock()
	if v == nil {
		<-stop
		return nil
	}
	return v.st.Idle(w, stop)
}

// Expunge serves EXPUNGE, UID EXPUNGE (UIDPLUS) and CLOSE. The EXPUNGE
// responses come from the change feed through the tracker, written by the Poll
// that follows the command, so this session and every other one number them the
// same way.
func (s *session) Expunge(_ *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	v := s.sel
	if v.readOnly {
		// CLOSE of an EXAMINEd mailbox must succeed without expunging, and the
		// library does not tell CLOSE from EXPUNGE: expunge nothing.
		return nil
	}
	var target []uint32 // nil: every \Deleted message
	if uids != nil {
		refs := v.resolve(*uids)
		if len(refs) == 0 {
			return nil
		}
		msgs, err := s.srv.store.MessagesByUID(s.srv.ctx, v.id, refUIDs(refs), false)
		if err != nil {
			return s.fail("expunge", err)
		}
		// UID EXPUNGE removes only the listed messages that are \Deleted (RFC 4315).
		target = []uint32{}
		for i := range msgs {
			if store.HasFlag(msgs[i].Flags, string(imap.FlagDeleted)) {
				target = append(target, msgs[i].UID)
			}
		}
		if len(target) == 0 {
			return nil
		}
	}
	if _, err := s.srv.store.Expunge(s.srv.ctx, v.id, target); err != nil {
		return s.fail("expunge", err)
	}
	return nil
}

// destination finds the target of COPY and MOVE; a missing one says TRYCREATE.
func (s *session) destination(name string) (*store.Mailbox, error) {
	mb, _, err := s.mailbox(name)
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("%w: %w", errDestMissing, err)
	}
	return mb, err
}

func (s *session) Copy(set imap.NumSet, dest string) (*imap.CopyData, error) {
	v := s.sel
	dst, err := s.destination(dest)
	if err != nil {
		return nil, s.fail("copy", err)
	}
	refs := v.resolve(set)
	if len(refs) == 0 {
		return nil, nil
	}
	s.teach(v, refUIDs(refs), dst)
	pairs, err := s.srv.store.Copy(s.srv.ctx, v.id, refUIDs(refs), dst.ID)
	if err != nil {
		return nil, s.fail("copy", err)
	}
	return copyData(dst.UIDValidity, pairs), nil
}

// Move serves MOVE (RFC 6851): one store transaction copies and expunges; the
// COPYUID goes out here, the EXPUNGEs with the Poll after the command.
func (s *session) Move(w *imapserver.MoveWriter, set imap.NumSet, dest string) error {
	v := s.sel
	if v.readOnly {
		return s.fail("move", errReadOnly)
	}
	dst, err := s.destination(dest)
	if err != nil {
		return s.fail("move", err)
	}
	refs := v.resolve(set)
	if len(refs) == 0 {
		return nil
	}
	s.teach(v, refUIDs(refs), dst)
	pairs, err := s.srv.store.Move(s.srv.ctx, v.id, refUIDs(refs), dst.ID)
	if err != nil {
		return s.fail("move", err)
	}
	if data := copyData(dst.UIDValidity, pairs); data != nil {
		return w.WriteCopyData(data)
	}
	return nil
}

// copyData is the COPYUID of UIDPLUS; nil when nothing was copied, since an
// empty set cannot be written.
func copyData(uidValidity uint32, pairs []store.UIDPair) *imap.CopyData {
	if len(pairs) == 0 {
		return nil
	}
	d := &imap.CopyData{UIDValidity: uidValidity}
	for _, p := range pairs {
		d.SourceUIDs.AddNum(imap.UID(p.Src))
		d.DestUIDs.AddNum(imap.UID(p.Dst))
	}
	return d
}

// teach hands messages moving into or out of Junk to the spam filter (R4.2),
// and messages moving into the report folder to Report (R13.1); it reads the
// bodies, once for both, before a MOVE removes them.
func (s *session) teach(v *view, uids []uint32, dst *store.Mailbox) {
	if v.id == dst.ID {
		return
	}
	report := s.srv.report != nil && dst.Name == store.ReportFolder
	learn, spam := false, false
	if s.srv.learn != nil {
		switch {
		case dst.SpecialUse == store.SpecialJunk && v.special != store.SpecialJunk:
			learn, spam = true, true
		case v.special == store.SpecialJunk && dst.SpecialUse != store.SpecialJunk && dst.SpecialUse != store.SpecialTrash:
			learn = true
		}
	}
	if !report && !learn {
		return
	}
	msgs, err := s.srv.store.MessagesByUID(s.srv.ctx, v.id, uids, false)
	if err != nil {
		return
	}
	for _, m := range msgs {
		raw, err := s.srv.store.ReadBlob(s.srv.ctx, m.BlobID)
		if err != nil {
			continue
		}
		if report {
			s.srv.report(s.accountID, raw)
		}
		if learn {
			s.srv.learn(raw, spam)
		}
	}
}
