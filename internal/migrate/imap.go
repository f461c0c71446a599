package migrate

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// Proxy login styles: how an administrator logs in as another user.
const (
	// AdminDovecot is Dovecot's master user login: LOGIN "user*admin" with the
	// administrator's password (the separator is auth_master_user_separator).
	AdminDovecot = "dovecot"
	// AdminAuthzID is SASL PLAIN with an authorization identity: authenticate
	// as the administrator, act as the user (Zimbra, Dovecot, Cyrus).
	AdminAuthzID = "authzid"
)

// AdminLogin is an administrator's proxy login on the old server.
type AdminLogin struct {
	User, Password string
	Style          string // AdminDovecot or AdminAuthzID
	Separator      string // AdminDovecot only; default "*"
}

// IMAPAccount is one row of the accounts file: our address, the login on the
// old server, and its password (empty: the administrator's proxy login).
type IMAPAccount struct {
	Address, Login, Password string
}

// ReadIMAPAccounts reads "address,login,password" rows; a first row naming
// the columns is skipped. A missing login is the address.
func ReadIMAPAccounts(r io.Reader) ([]IMAPAccount, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var out []IMAPAccount
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("accounts CSV: %w", err)
		}
		if len(rec) == 0 || len(rec) == 1 && strings.TrimSpace(rec[0]) == "" || strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			continue
		}
		first := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")))
		if line == 1 && (first == "address" || first == "địa chỉ" || first == "dia chi") {
			continue
		}
		a := IMAPAccount{Address: first}
		if len(rec) > 1 {
			a.Login = strings.TrimSpace(rec[1])
		}
		if len(rec) > 2 {
			a.Password = rec[2] // a password may begin or end with a space
		}
		if a.Login == "" {
			a.Login = a.Address
		}
		if !strings.Contains(a.Address, "@") {
			return nil, fmt.Errorf("accounts CSV line %d: %q is not an address", line, rec[0])
		}
		out = append(out, a)
	}
}

// IMAPOptions configure an IMAP import.
type IMAPOptions struct {
	// URL is imaps://host[:993] (TLS) or imap://host[:143] (STARTTLS, or plain
	// text when Plaintext is set).
	URL       string
	TLSConfig *tls.Config // nil: the system's roots
	Plaintext bool
	Admin     *AdminLogin
	Parallel  int // accounts at once; default 2
	// MirrorDeletes removes our copies of messages (and folders) deleted on
	// the old side since the last run.
	MirrorDeletes bool
	FetchBatch    int // UIDs per FETCH of bodies
	ListBatch     int // UIDs per step of the flag and deletion pass
	// IgnoreSize accepts bodies whose length differs from RFC822.SIZE (some
	// servers report an estimate).
	IgnoreSize bool
	// DebugWriter, when set, receives the IMAP conversation (with passwords).
	DebugWriter io.Writer
}

// endpoint parses URL into the address to dial.
func (o *IMAPOptions) endpoint() (u *url.URL, addr string, err error) {
	u, err = url.Parse(o.URL)
	if err != nil {
		return nil, "", fmt.Errorf("server URL: %w", err)
	}
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		if port == "" {
			port = "993"
		}
	case "imap":
		if port == "" {
			port = "143"
		}
	default:
		return nil, "", fmt.Errorf("server URL %q: the scheme must be imaps:// or imap://", o.URL)
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("server URL %q has no host", o.URL)
	}
	return u, net.JoinHostPort(u.Hostname(), port), nil
}

// SourceKey names the old server in the sync state: its host, so that the
// imaps:// and imap:// ports of one server share one state and switching
// between them never copies a mailbox twice.
func (o *IMAPOptions) SourceKey() (string, error) {
	u, _, err := o.endpoint()
	if err != nil {
		return "", err
	}
	return "imap:" + strings.ToLower(u.Hostname()), nil
}

func (o *IMAPOptions) dial() (*imapclient.Client, error) {
	u, addr, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{}
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	opts := &imapclient.Options{TLSConfig: tc, DebugWriter: o.DebugWriter, Dialer: &net.Dialer{Timeout: 30 * time.Second}}
	var c *imapclient.Client
	switch {
	case u.Scheme == "imaps":
		c, err = imapclient.DialTLS(addr, opts)
	case o.Plaintext:
		c, err = imapclient.DialInsecure(addr, opts)
	default:
		c, err = imapclient.DialStartTLS(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return c, nil
}

// ImportIMAP copies every account's folders from the old server, Parallel
// accounts at a time. The report says per account what was copied and what
// did not verify; an error is returned only when nothing could start.
func (im *Importer) ImportIMAP(ctx context.Context, opts IMAPOptions, accounts []IMAPAccount) (*Report, error) {
	source, err := opts.SourceKey()
	if err != nil {
		return nil, err
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 2
	}
	if opts.FetchBatch <= 0 {
		opts.FetchBatch = DefaultFetchBatch
	}
	if opts.ListBatch <= 0 {
		opts.ListBatch = DefaultListBatch
	}
	rep := &Report{Started: im.Clock.Now(), Accounts: make([]*AccountReport, len(accounts))}
	if im.Progress != nil {
		im.Progress.AccountsTotal.Add(int64(len(accounts)))
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Parallel, max(len(accounts), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &imapRun{im: im, opts: &opts, source: source, acc: accounts[i],
					log: im.Logger.With("account", accounts[i].Address)}
				rep.Accounts[i] = r.run(ctx)
			}
		}()
	}
	for i := range accounts {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	for i, a := range rep.Accounts {
		if a == nil {
			rep.Accounts[i] = &AccountReport{Address: accounts[i].Address, Source: source, Login: accounts[i].Login, Err: ctx.Err()}
		}
	}
	rep.Duration = im.Clock.Now().Sub(rep.Started)
	return rep, nil
}

// imapRun is the copy of one account.
type imapRun struct {
	im     *Importer
	opts   *IMAPOptions
	source string
	acc    IMAPAccount
	log    *slog.Logger
	c      *imapclient.Client
	caps   imap.CapSet
	acct   *store.Account
	names  map[int64]string // our mailboxes by id
}

func (r *imapRun) run(ctx context.Context) *AccountReport {
	rep := &AccountReport{Address: r.acc.Address, Source: r.source, Login: r.acc.Login, Started: r.im.Clock.Now()}
	if p := r.im.Progress; p != nil {
		p.AccountsStarted.Add(1)
		defer p.AccountsDone.Add(1)
	}
	defer func() { rep.Duration = r.im.Clock.Now().Sub(rep.Started) }()
	var err error
	if r.acct, err = r.im.Store.AccountByAddress(ctx, r.acc.Address); err != nil {
		rep.Err = fmt.Errorf("không có hộp thư %s bên ta (chạy govmail import directory trước) / no mailbox %s here (run govmail import directory first): %w", r.acc.Address, r.acc.Address, err)
		return rep
	}
	// Audit with a context of its own: a cancelled run is recorded too.
	defer func() { r.im.audit(context.WithoutCancel(ctx), rep) }()
	if r.c, err = r.opts.dial(); err != nil {
		rep.Err = err
		return rep
	}
	// imapclient has no context: closing the connection is what stops a
	// command in flight when the run is cancelled.
	stop := context.AfterFunc(ctx, func() { r.c.Close() })
	defer stop()
	defer r.c.Close()
	if err := r.login(); err != nil {
		rep.Err = err
		return rep
	}
	r.caps = r.c.Caps()
	plans, status, err := r.listFolders()
	if err != nil {
		rep.Err = err
		return rep
	}
	if err := r.loadNames(ctx); err != nil {
		rep.Err = err
		return rep
	}
	r.plan(ctx, plans, status)
	listed := map[string]bool{}
	for _, p := range plans {
		listed[p.Source] = true
		if p.Skip != "" {
			rep.Folders = append(rep.Folders, &FolderReport{Source: p.Source, SkippedFolder: p.Skip})
			continue
		}
		fr := r.syncFolder(ctx, p)
		rep.Folders = append(rep.Folders, fr)
		if ctx.Err() != nil {
			rep.Err = ctx.Err()
			return rep
		}
		if fr.Err != nil && r.connectionLost(fr.Err) {
			rep.Err = fmt.Errorf("mất kết nối / connection lost: %w", fr.Err)
			return rep
		}
	}
	r.goneFolders(ctx, rep, listed)
	r.im.countOurs(ctx, rep)
	copied, bytes, fetched := rep.totals()
	r.log.Info("account imported", "folders", len(rep.Folders), "copied", copied, "bytes", bytes, "fetched", fetched, "verified", rep.Verified())
	if err := r.c.Logout().Wait(); err != nil {
		r.log.Debug("logout", "err", err)
	}
	return rep
}

func (r *imapRun) connectionLost(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return false
	}
	select {
	case <-r.c.Closed():
		return true
	default:
		return false
	}
}

func (r *imapRun) login() error {
	a := r.opts.Admin
	var err error
	switch {
	case r.acc.Password != "":
		err = r.c.Login(r.acc.Login, r.acc.Password).Wait()
	case a == nil:
		return errors.New("không có mật khẩu và không có đăng nhập quản trị (--admin) / no password and no administrator login (--admin)")
	case a.Style == AdminAuthzID:
		err = r.c.Authenticate(sasl.NewPlainClient(r.acc.Login, a.User, a.Password))
	default:
		sep := a.Separator
		if sep == "" {
			sep = "*"
		}
		err = r.c.Login(r.acc.Login+sep+a.User, a.Password).Wait()
	}
	if err != nil {
		return fmt.Errorf("đăng nhập máy chủ cũ thất bại / login to the old server failed (%s): %w", r.acc.Login, err)
	}
	return nil
}

// listFolders lists the personal folders with their special use, and their
// message counts when the server has LIST-STATUS.
func (r *imapRun) listFolders() ([]folderPlan, map[string]*imap.StatusData, error) {
	prefix := ""
	var others []string
	if r.caps.Has(imap.CapNamespace) || r.caps.Has(imap.CapIMAP4rev2) {
		ns, err := r.c.Namespace().Wait()
		if err != nil {
			return nil, nil, fmt.Errorf("NAMESPACE: %w", err)
		}
		if len(ns.Personal) > 0 {
			prefix = ns.Personal[0].Prefix
		}
		for _, d := range append(append([]imap.NamespaceDescriptor{}, ns.Other...), ns.Shared...) {
			if d.Prefix != "" {
				others = append(others, d.Prefix)
			}
		}
	}
	var lo *imap.ListOptions
	extended := r.caps.Has(imap.CapListExtended) || r.caps.Has(imap.CapIMAP4rev2)
	if extended && r.caps.Has(imap.CapSpecialUse) {
		lo = &imap.ListOptions{ReturnSpecialUse: true}
	}
	if r.caps.Has(imap.CapListStatus) {
		if lo == nil {
			lo = &imap.ListOptions{}
		}
		lo.ReturnStatus = &imap.StatusOptions{NumMessages: true, Size: r.caps.Has(imap.CapStatusSize)}
	}
	list, err := r.c.List("", "*", lo).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("LIST: %w", err)
	}
	status := map[string]*imap.StatusData{}
	var plans []folderPlan
	seen := map[string]bool{}
	for _, l := range list {
		other := false
		for _, p := range others {
			if strings.HasPrefix(l.Mailbox, p) {
				other = true // shared and other users' folders are theirs to copy
			}
		}
		if other || seen[l.Mailbox] {
			continue
		}
		seen[l.Mailbox] = true
		plans = append(plans, planFolder(l.Mailbox, l.Delim, l.Attrs, prefix))
		if l.Status != nil {
			status[l.Mailbox] = l.Status
		}
	}
	// INBOX first, then by name: the mail people look for first arrives first.
	sort.SliceStable(plans, func(i, j int) bool {
		if (plans[i].Target == "INBOX") != (plans[j].Target == "INBOX") {
			return plans[i].Target == "INBOX"
		}
		return plans[i].Source < plans[j].Source
	})
	return plans, status, nil
}

func (r *imapRun) loadNames(ctx context.Context) error {
	mbs, err := r.im.Store.ListMailboxes(ctx, r.acct.ID)
	if err != nil {
		return fmt.Errorf("our folders: %w", err)
	}
	r.names = map[int64]string{}
	for _, m := range mbs {
		r.names[m.ID] = m.Name
	}
	return nil
}

// plan adds what is left to copy to the progress counters: the source's
// message count less what the map already holds. It asks STATUS per folder
// when LIST did not say; an estimate, so errors only leave it lower.
func (r *imapRun) plan(ctx context.Context, plans []folderPlan, status map[string]*imap.StatusData) {
	if r.im.Progress == nil {
		return
	}
	for _, p := range plans {
		if p.Skip != "" {
			continue
		}
		st := status[p.Source]
		if st == nil {
			var err error
			st, err = r.c.Status(p.Source, &imap.StatusOptions{NumMessages: true, UIDValidity: true, Size: r.caps.Has(imap.CapStatusSize)}).Wait()
			if err != nil {
				continue
			}
		}
		if st.NumMessages == nil {
			continue
		}
		n := int(*st.NumMessages)
		if f, err := r.im.State.ImportFolder(ctx, r.acct.ID, r.source, p.Source); err == nil {
			done, _ := r.im.State.CountImported(ctx, f.ID, f.UIDValidity)
			n = max(0, n-done)
		}
		var bytes int64
		if st.Size != nil && *st.NumMessages > 0 {
			bytes = *st.Size * int64(n) / int64(*st.NumMessages)
		}
		r.im.Progress.plan(n, bytes)
	}
}

// mailbox finds or makes our folder for a plan.
func (r *imapRun) mailbox(ctx context.Context, p folderPlan) (*store.Mailbox, error) {
	mb, err := r.im.Store.MailboxByName(ctx, r.acct.ID, p.Target)
	if err == nil {
		return mb, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	mb, err = r.im.Store.CreateMailbox(ctx, r.acct.ID, p.Target, p.Special)
	if errors.Is(err, store.ErrExists) {
		return r.im.Store.MailboxByName(ctx, r.acct.ID, p.Target)
	}
	if err == nil {
		r.names[mb.ID] = mb.Name
	}
	return mb, err
}

// syncFolder brings one folder up to date: a pass over the source's UIDs and
// flags (what is new, what changed, what went), then the new bodies.
func (r *imapRun) syncFolder(ctx context.Context, p folderPlan) *FolderReport {
	fr := &FolderReport{Source: p.Source, Target: p.Target}
	st, err := r.im.State.ImportFolder(ctx, r.acct.ID, r.source, p.Source)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		fr.Err = err
		return fr
	}
	if errors.Is(err, store.ErrNotFound) {
		st = nil
	}
	condstore := r.caps.Has(imap.CapCondStore)
	sel, err := r.c.Select(p.Source, &imap.SelectOptions{ReadOnly: true, CondStore: condstore}).Wait()
	if err != nil {
		fr.Err = fmt.Errorf("EXAMINE %q: %w", p.Source, err)
		return fr
	}
	renewed := false
	switch {
	case st == nil:
		mb, err := r.mailbox(ctx, p)
		if err != nil {
			fr.Err = fmt.Errorf("our folder %q: %w", p.Target, err)
			return fr
		}
		st = &store.ImportFolder{AccountID: r.acct.ID, Source: r.source, Folder: p.Source, MailboxID: mb.ID, UIDValidity: sel.UIDValidity}
		if err := r.im.State.SaveImportFolder(ctx, st); err != nil {
			fr.Err = err
			return fr
		}
	case st.UIDValidity != sel.UIDValidity:
		// The old server renumbered the folder (rebuilt, restored, re-created):
		// the UID map is void, but the copies are not. Their rows become
		// orphans, matched by content as the folder is fetched again.
		fr.Warnings = append(fr.Warnings, fmt.Sprintf("UIDVALIDITY đổi / changed %d → %d: thư được đối chiếu theo nội dung, không chép trùng / messages matched by content, not copied twice", st.UIDValidity, sel.UIDValidity))
		st.UIDValidity, st.LastUID, st.UIDNext, st.HighestModSeq = sel.UIDValidity, 0, 0, 0
		if err := r.im.State.SaveImportFolder(ctx, st); err != nil {
			fr.Err = err
			return fr
		}
		renewed = true
	}
	fr.Target, fr.mailboxID = r.names[st.MailboxID], st.MailboxID
	if !renewed && condstore && st.HighestModSeq != 0 && sel.HighestModSeq == st.HighestModSeq && uint32(sel.UIDNext) == st.UIDNext {
		// Nothing was added, changed or expunged there since the last complete run.
		if n, err := r.im.State.CountImported(ctx, st.ID, st.UIDValidity); err == nil && n == int(sel.NumMessages) {
			fr.Unchanged, fr.SourceCount, fr.Present = true, n, n
			return fr
		}
	}
	toCopy, maxUID, err := r.listing(ctx, st, fr, sel.NumMessages)
	if err != nil {
		fr.Err = err
		return fr
	}
	if err := r.copyMessages(ctx, st, toCopy, fr); err != nil {
		fr.Err = err
		return fr
	}
	if renewed {
		n, err := r.im.State.DropImportOrphans(ctx, st.ID, r.opts.MirrorDeletes)
		if err != nil {
			fr.Err = err
			return fr
		}
		if r.opts.MirrorDeletes {
			fr.DeletedMirrored += n
		} else {
			fr.DeletedKept += n
		}
	}
	st.LastUID = max(st.LastUID, maxUID)
	st.UIDNext = uint32(sel.UIDNext)
	st.HighestModSeq = 0
	if fr.Verified() && condstore {
		st.HighestModSeq = sel.HighestModSeq
	}
	st.SyncedAt = r.im.Clock.Now()
	if err := r.im.State.SaveImportFolder(ctx, st); err != nil {
		fr.Err = err
	}
	return fr
}

type listEntry struct {
	uid   uint32
	flags []string
}

// listing streams UID and FLAGS of the whole folder in steps of ListBatch
// UIDs, compares each step with the map and our copies, updates flags,
// handles deletions, and returns the UIDs still to copy (as ranges, so a
// 200,000-message folder costs a few bytes, not a list).
func (r *imapRun) listing(ctx context.Context, st *store.ImportFolder, fr *FolderReport, exists uint32) (imap.UIDSet, uint32, error) {
	var toCopy imap.UIDSet
	var prevHi, maxUID uint32
	if exists == 0 {
		// FETCH 1:* on an empty folder is an error on some servers; every
		// mapped message is gone.
		return toCopy, 0, r.step(ctx, st, fr, nil, 1, math.MaxUint32, &toCopy)
	}
	var all imap.UIDSet
	all.AddRange(1, 0) // 1:*
	cmd := r.c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true})
	defer cmd.Close()
	chunk := make([]listEntry, 0, r.opts.ListBatch)
	flushChunk := func(hi uint32) error {
		sort.Slice(chunk, func(i, j int) bool { return chunk[i].uid < chunk[j].uid })
		if len(chunk) > 0 && chunk[0].uid <= prevHi {
			return fmt.Errorf("FETCH of %q returned UIDs out of order", st.Folder)
		}
		if len(chunk) > 0 && hi != math.MaxUint32 {
			hi = chunk[len(chunk)-1].uid
		}
		if err := r.step(ctx, st, fr, chunk, prevHi+1, hi, &toCopy); err != nil {
			return err
		}
		prevHi = hi
		chunk = chunk[:0]
		return nil
	}
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			return nil, 0, fmt.Errorf("FETCH FLAGS: %w", err)
		}
		if buf.UID == 0 {
			continue
		}
		e := listEntry{uid: uint32(buf.UID)}
		for _, f := range buf.Flags {
			e.flags = append(e.flags, string(f))
		}
		maxUID = max(maxUID, e.uid)
		chunk = append(chunk, e)
		if len(chunk) == r.opts.ListBatch {
			if err := flushChunk(0); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, 0, fmt.Errorf("FETCH FLAGS %q: %w", st.Folder, err)
	}
	return toCopy, maxUID, flushChunk(math.MaxUint32)
}

// step reconciles source UIDs lo..hi (entries, ascending) with the map.
func (r *imapRun) step(ctx context.Context, st *store.ImportFolder, fr *FolderReport, entries []listEntry, lo, hi uint32, toCopy *imap.UIDSet) error {
	rows, err := r.im.State.ImportedUIDs(ctx, st.ID, st.UIDValidity, lo, hi)
	if err != nil {
		return err
	}
	mapped := make(map[uint32]uint32, len(rows))
	dsts := make([]uint32, 0, len(rows))
	for _, row := range rows {
		mapped[row.Src] = row.Dst
		dsts = append(dsts, row.Dst)
	}
	sort.Slice(dsts, func(i, j int) bool { return dsts[i] < dsts[j] })
	ours := map[uint32][]string{}
	if len(dsts) > 0 {
		msgs, err := r.im.Store.MessagesByUID(ctx, st.MailboxID, dsts, false)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			ours[m.UID] = m.Flags
		}
	}
	fr.SourceCount += len(entries)
	var recopy []uint32
	changes := map[string][]uint32{}
	flagsOf := map[string][]string{}
	for _, e := range entries {
		dst, ok := mapped[e.uid]
		if !ok {
			toCopy.AddNum(imap.UID(e.uid))
			continue
		}
		delete(mapped, e.uid)
		have, exists := ours[dst]
		if !exists {
			// Our copy was removed here; the source is what counts until the switch.
			recopy = append(recopy, e.uid)
			toCopy.AddNum(imap.UID(e.uid))
			continue
		}
		fr.Present++
		if !sameFlags(e.flags, have) {
			want := store.NormFlags(e.flags)
			k := strings.Join(want, " ")
			changes[k] = append(changes[k], dst)
			flagsOf[k] = want
		}
	}
	for k, uids := range changes {
		sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
		changed, err := r.im.Store.StoreFlags(ctx, st.MailboxID, uids, store.FlagsSet, flagsOf[k])
		if err != nil {
			return fmt.Errorf("flags: %w", err)
		}
		fr.FlagsUpdated += len(changed)
	}
	if len(recopy) > 0 {
		if _, err := r.im.State.ForgetImported(ctx, st.ID, st.UIDValidity, recopy, false); err != nil {
			return err
		}
		fr.Recopied += len(recopy)
	}
	if len(mapped) > 0 {
		gone := make([]uint32, 0, len(mapped))
		for src := range mapped {
			gone = append(gone, src)
		}
		if r.opts.MirrorDeletes {
			n, err := r.im.State.ForgetImported(ctx, st.ID, st.UIDValidity, gone, true)
			if err != nil {
				return err
			}
			fr.DeletedMirrored += n
		} else {
			fr.DeletedKept += len(gone)
		}
	}
	return nil
}

// copyMessages fetches the bodies of toCopy in batches of FetchBatch UIDs and
// hands them to the batch writer, one message in memory at a time.
func (r *imapRun) copyMessages(ctx context.Context, st *store.ImportFolder, toCopy imap.UIDSet, fr *FolderReport) error {
	if len(toCopy) == 0 {
		return nil
	}
	b := r.im.newBatcher(ctx, st.ID)
	err := r.fetchAll(ctx, toCopy, fr, b)
	if cerr := b.close(fr); err == nil {
		err = cerr
	}
	return err
}

func (r *imapRun) fetchAll(ctx context.Context, toCopy imap.UIDSet, fr *FolderReport, b *batcher) error {
	var batch imap.UIDSet
	n := 0
	for _, rg := range toCopy {
		for u := rg.Start; ; u++ {
			batch.AddNum(u)
			n++
			if n == r.opts.FetchBatch {
				if err := r.fetchBatch(ctx, batch, n, fr, b); err != nil {
					return err
				}
				batch, n = nil, 0
			}
			if u == rg.Stop {
				break
			}
		}
	}
	if n > 0 {
		return r.fetchBatch(ctx, batch, n, fr, b)
	}
	return nil
}

// fetchBatch fetches one batch. A server that refuses the batch (a broken
// message makes some answer NO for all) is asked again one message at a time,
// so one bad message costs itself, not its neighbours.
func (r *imapRun) fetchBatch(ctx context.Context, set imap.UIDSet, n int, fr *FolderReport, b *batcher) error {
	got, err := r.fetchSet(ctx, set, fr, b)
	var ie *imap.Error
	if err != nil && !errors.As(err, &ie) {
		return err
	}
	var missing imap.UIDSet
	for _, rg := range set {
		for u := rg.Start; ; u++ {
			if !got.Contains(u) {
				missing.AddNum(u)
			}
			if u == rg.Stop {
				break
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err != nil && n > 1 {
		r.log.Warn("FETCH refused; retrying one by one", "folder", fr.Source, "err", err)
		for _, rg := range missing {
			for u := rg.Start; ; u++ {
				var one imap.UIDSet
				one.AddNum(u)
				if err := r.fetchBatch(ctx, one, 1, fr, b); err != nil {
					return err
				}
				if u == rg.Stop {
					break
				}
			}
		}
		return nil
	}
	if err != nil {
		// One message the server will not give: record it and go on.
		u, _ := missing.Nums()
		for _, uid := range u {
			fr.skip(uint32(uid), ReasonServerErr+": "+ie.Error())
		}
		return nil
	}
	// Not returned without an error: expunged meanwhile, or withheld.
	still, serr := r.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{missing}}, nil).Wait()
	if serr != nil {
		return fmt.Errorf("UID SEARCH: %w", serr)
	}
	exist := imap.UIDSet{}
	if uids := still.AllUIDs(); len(uids) > 0 {
		exist.AddNum(uids...)
	}
	u, _ := missing.Nums()
	for _, uid := range u {
		if exist.Contains(uid) {
			fr.skip(uint32(uid), ReasonNotGiven)
		} else {
			fr.Vanished++
			fr.SourceCount--
		}
	}
	return nil
}

func (r *imapRun) fetchSet(ctx context.Context, set imap.UIDSet, fr *FolderReport, b *batcher) (imap.UIDSet, error) {
	var got imap.UIDSet
	// BODY.PEEK: copying must not mark the old side's mail as read.
	bodySection := &imap.FetchItemBodySection{Peek: true}
	cmd := r.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{bodySection}})
	defer cmd.Close()
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			return got, fmt.Errorf("FETCH: %w", err)
		}
		if buf.UID == 0 || !set.Contains(buf.UID) {
			continue // an unsolicited FETCH (a flag change by another session)
		}
		uid := uint32(buf.UID)
		got.AddNum(buf.UID)
		fr.Fetched++
		body := buf.FindBodySection(bodySection)
		if body == nil {
			fr.skip(uid, ReasonNoBody)
			continue
		}
		if !r.opts.IgnoreSize && buf.RFC822Size != 0 && buf.RFC822Size != int64(len(body)) {
			// Stored all the same: it is what the server gives; the report
			// says it did not verify.
			fr.skip(uid, fmt.Sprintf("%s (%d ≠ %d)", ReasonSize, len(body), buf.RFC822Size))
		}
		flags := make([]string, 0, len(buf.Flags))
		for _, f := range buf.Flags {
			flags = append(flags, string(f))
		}
		date := buf.InternalDate
		if date.IsZero() {
			date = r.im.Clock.Now()
		}
		nm, _ := delivery.Prepare(body, date)
		if err := b.add(store.ImportMessage{SrcUID: uid, Msg: nm, Flags: store.NormFlags(flags)}); err != nil {
			return got, err
		}
		if ctx.Err() != nil {
			return got, ctx.Err()
		}
	}
	return got, cmd.Close()
}

// goneFolders handles folders synced before that the source no longer lists.
func (r *imapRun) goneFolders(ctx context.Context, rep *AccountReport, listed map[string]bool) {
	states, err := r.im.State.ImportFolders(ctx, r.acct.ID, r.source)
	if err != nil {
		rep.Err = err
		return
	}
	for _, st := range states {
		if listed[st.Folder] {
			continue
		}
		fr := &FolderReport{Source: st.Folder, Target: r.names[st.MailboxID]}
		// A folder LIST no longer shows may still be there (hidden, or a server's
		// hiccup): only one that STATUS cannot find either is taken as deleted.
		if _, err := r.c.Status(st.Folder, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
			fr.Warnings = append(fr.Warnings, "thư mục không còn trong LIST nhưng vẫn tồn tại; giữ nguyên / not listed any more but still there; kept")
		} else if r.opts.MirrorDeletes {
			n, err := r.im.State.DeleteImportFolder(ctx, st.ID, true)
			fr.Err, fr.DeletedMirrored = err, n
			fr.Warnings = append(fr.Warnings, "thư mục đã bị xóa bên cũ; đã xóa các bản sao / the folder is gone on the old side; its copies were removed")
		} else {
			fr.Warnings = append(fr.Warnings, "thư mục đã bị xóa bên cũ; vẫn giữ các bản sao / the folder is gone on the old side; its copies are kept")
		}
		fr.mailboxID = st.MailboxID
		rep.Folders = append(rep.Folders, fr)
	}
}
