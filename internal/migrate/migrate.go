// Package migrate owns the move from the province's old mail system to govmail:
// copying mailboxes from any IMAP server (with each holder's password or an
// administrator's proxy login), again and again until the switch, each run
// copying only what changed; importing mbox files and maildirs; and creating
// units and accounts from the old system's directory export, legacy addresses
// kept and flagged (R5.4), one-time passwords to be changed at first login (R6.1).
//
// Messages are stored byte for byte as the old system serves them, with their
// flags and internal dates, straight into the store: an import is not a
// delivery, so it never triggers quota warnings, filters, rules or auto-replies,
// and writes no transaction-log rows (nothing was transmitted). Memory stays
// flat whatever the mailbox size: messages are fetched in batches of UIDs and
// written in bounded batches, never a whole folder at once. The package never
// decides who may log in, or what an address should be: directory and address do.
//
// The sync is one-way, the old side authoritative until the switch: a run
// copies new messages, sets our flags to the old side's, copies again a copy
// removed here, and (only with MirrorDeletes) removes copies of what the old
// side deleted. A province runs it nightly for weeks, then once more after the
// MX records point here, and stops; that last run copies minutes of mail.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
)

// Defaults of the batch sizes. 4 MiB per transaction keeps at most three
// batches (one filling, one queued, one committing) in memory, ~12 MiB, while
// one fsync is shared by hundreds of small messages.
const (
	DefaultBatchBytes    = 4 << 20
	DefaultBatchMessages = 500
	DefaultFetchBatch    = 100
	DefaultListBatch     = 2000
)

// Importer copies mail into the store.
type Importer struct {
	Store store.Store
	// State keeps the sync state; the SQLite store implements it.
	State    store.MigrationStore
	Clock    clock.Clock
	Logger   *slog.Logger
	Progress *Progress // nil: no progress counting
	// BatchBytes and BatchMessages bound one store transaction (and memory).
	BatchBytes    int
	BatchMessages int
	// Actor is who ran the import, for the audit log (R11.2); default "cli:import".
	Actor string
}

// NewImporter builds an importer over st, which must keep migration state.
func NewImporter(st store.Store, clk clock.Clock, log *slog.Logger) (*Importer, error) {
	ms, ok := st.(store.MigrationStore)
	if !ok {
		return nil, errors.New("migrate: this store keeps no import state (use the SQLite store)")
	}
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Importer{Store: st, State: ms, Clock: clk, Logger: log}, nil
}

// audit records one account's import in the audit log (R11.2): an import
// writes no transaction-log rows, since nothing was transmitted, but it is an
// operator's action on a mailbox.
func (im *Importer) audit(ctx context.Context, a *AccountReport) {
	actor := im.Actor
	if actor == "" {
		actor = "cli:import"
	}
	copied, bytes, fetched := a.totals()
	detail := fmt.Sprintf("from %s: %d messages (%d bytes) copied, %d fetched, verified=%v", a.Source, copied, bytes, fetched, a.Verified())
	if err := im.Store.AppendAudit(ctx, store.AuditEntry{Time: im.Clock.Now(), Actor: actor, Action: "mailbox.import", Target: a.Address, Detail: detail}); err != nil {
		im.Logger.Error("audit log", "err", err)
	}
}

func (im *Importer) batchBytes() int {
	if im.BatchBytes > 0 {
		return im.BatchBytes
	}
	return DefaultBatchBytes
}

func (im *Importer) batchMessages() int {
	if im.BatchMessages > 0 {
		return im.BatchMessages
	}
	return DefaultBatchMessages
}

// Skip is a source message that was not copied, with the reason.
type Skip struct {
	UID    uint32
	Reason string
}

// Reasons for skipping, Vietnamese / English.
const (
	ReasonQuota     = "vượt hạn mức hộp thư / over the mailbox quota"
	ReasonNoBody    = "máy chủ cũ không trả nội dung thư / the old server returned no body"
	ReasonNotGiven  = "máy chủ cũ không trả thư này / the old server did not return the message"
	ReasonSize      = "kích thước khác RFC822.SIZE / size differs from RFC822.SIZE"
	ReasonServerErr = "lỗi máy chủ cũ / old server error"
)

// FolderReport is what happened to one source folder.
type FolderReport struct {
	Source string // the old side's folder name
	Target string // our folder
	// SourceCount is the number of messages on the old side; OurCount the
	// number in our folder after the run (all of it: merged folders and mail
	// delivered since the switch included).
	SourceCount int
	OurCount    int
	// Present counts the source's messages that have a copy here.
	Present int
	// Fetched counts the bodies fetched from the old side in this run.
	Fetched int
	// Copied and Bytes count what this run stored.
	Copied int
	Bytes  int64
	// Reused counts messages of a renumbered source folder (new UIDVALIDITY)
	// matched by content to an earlier copy instead of being stored again.
	Reused       int
	Recopied     int // copies removed on our side, copied again
	FlagsUpdated int
	// DeletedMirrored counts copies removed because the source deleted the
	// message (--mirror-deletes); DeletedKept those kept without it.
	DeletedMirrored int
	DeletedKept     int
	Vanished        int  // deleted on the old side while this run copied
	Unchanged       bool // nothing changed since the last run (CONDSTORE)
	SkippedFolder   string
	Skipped         []Skip
	Warnings        []string
	Err             error

	mailboxID int64 // our folder, for OurCount
}

// Verified tells whether every source message has its copy here.
func (f *FolderReport) Verified() bool {
	return f.Err == nil && (f.SkippedFolder != "" || len(f.Skipped) == 0 && f.Present == f.SourceCount)
}

func (f *FolderReport) skip(uid uint32, reason string) {
	f.Skipped = append(f.Skipped, Skip{UID: uid, Reason: reason})
}

// AccountReport is what happened to one account.
type AccountReport struct {
	Address  string
	Source   string
	Login    string
	Folders  []*FolderReport
	Err      error
	Started  time.Time
	Duration time.Duration
}

// Verified tells whether the account was copied completely.
func (a *AccountReport) Verified() bool {
	if a.Err != nil {
		return false
	}
	for _, f := range a.Folders {
		if !f.Verified() {
			return false
		}
	}
	return true
}

// countOurs fills OurCount at the end of an account, when folders merged
// into one (Sent Items and Sent) have all arrived.
func (im *Importer) countOurs(ctx context.Context, a *AccountReport) {
	for _, f := range a.Folders {
		if f.mailboxID == 0 {
			continue
		}
		if ms, err := im.Store.MailboxStatus(ctx, f.mailboxID); err == nil {
			f.OurCount = int(ms.Messages)
		}
	}
}

func (a *AccountReport) totals() (copied int, bytes int64, fetched int) {
	for _, f := range a.Folders {
		copied += f.Copied
		bytes += f.Bytes
		fetched += f.Fetched
	}
	return
}

// Report is the outcome of one import run.
type Report struct {
	Accounts []*AccountReport
	Started  time.Time
	Duration time.Duration
}

// Verified tells whether every account verified.
func (r *Report) Verified() bool {
	for _, a := range r.Accounts {
		if !a.Verified() {
			return false
		}
	}
	return true
}

// Totals sums what the run copied.
func (r *Report) Totals() (messages int, bytes int64, fetched int) {
	for _, a := range r.Accounts {
		m, b, f := a.totals()
		messages, bytes, fetched = messages+m, bytes+b, fetched+f
	}
	return
}

// Rates are messages and megabytes (10^6 bytes) per second over d.
func Rates(messages int, bytes int64, d time.Duration) (msgPerSec, mbPerSec float64) {
	s := d.Seconds()
	if s <= 0 {
		return 0, 0
	}
	return float64(messages) / s, float64(bytes) / 1e6 / s
}

// Write prints the report for operators, Vietnamese first.
func (r *Report) Write(w io.Writer) {
	ok := 0
	for _, a := range r.Accounts {
		a.Write(w)
		if a.Verified() {
			ok++
		}
	}
	msgs, bytes, fetched := r.Totals()
	mps, mbps := Rates(msgs, bytes, r.Duration)
	fmt.Fprintf(w, "\nTổng / total: %d tài khoản / accounts, %d đạt / verified, %d lỗi / failed\n", len(r.Accounts), ok, len(r.Accounts)-ok)
	fmt.Fprintf(w, "Đã chép / copied: %d thư / messages (%d tải về / fetched), %s trong / in %s: %.1f thư/s / msg/s, %.2f MB/s\n",
		msgs, fetched, formatBytes(bytes), r.Duration.Round(time.Millisecond), mps, mbps)
}

// Write prints one account's report.
func (a *AccountReport) Write(w io.Writer) {
	status := "ĐẠT / OK"
	if !a.Verified() {
		status = "CHƯA ĐẠT / NOT VERIFIED"
	}
	login := ""
	if a.Login != "" && a.Login != a.Address {
		login = " (" + a.Login + ")"
	}
	fmt.Fprintf(w, "\n== %s ← %s%s — %s\n", a.Address, a.Source, login, status)
	if a.Err != nil {
		fmt.Fprintf(w, "   lỗi / error: %v\n", a.Err)
	}
	if len(a.Folders) == 0 {
		return
	}
	fmt.Fprintf(w, "   %-28s %-20s %8s %8s %8s %8s %6s %6s\n", "thư mục cũ / old folder", "của ta / ours", "bên cũ", "bên ta", "đã chép", "tải về", "cờ", "xóa")
	fmt.Fprintf(w, "   %-28s %-20s %8s %8s %8s %8s %6s %6s\n", "", "", "old", "ours", "copied", "fetched", "flags", "del")
	for _, f := range a.Folders {
		if f.SkippedFolder != "" {
			fmt.Fprintf(w, "   %-28s bỏ qua / skipped: %s\n", f.Source, f.SkippedFolder)
			continue
		}
		fmt.Fprintf(w, "   %-28s %-20s %8d %8d %8d %8d %6d %6d\n", f.Source, "→ "+f.Target, f.SourceCount, f.OurCount, f.Copied, f.Fetched, f.FlagsUpdated, f.DeletedMirrored)
		if f.Unchanged {
			fmt.Fprintln(w, "      không đổi từ lần trước / unchanged since the last run")
		}
		if f.Reused > 0 {
			fmt.Fprintf(w, "      %d thư khớp theo nội dung sau khi UIDVALIDITY đổi / matched by content after a UIDVALIDITY change\n", f.Reused)
		}
		if f.Recopied > 0 {
			fmt.Fprintf(w, "      %d bản sao bị xóa bên ta đã chép lại / copies removed here were copied again\n", f.Recopied)
		}
		if f.DeletedKept > 0 {
			fmt.Fprintf(w, "      %d thư đã xóa bên cũ vẫn giữ bên ta (dùng --mirror-deletes để xóa) / deleted on the old side, kept here\n", f.DeletedKept)
		}
		if f.Vanished > 0 {
			fmt.Fprintf(w, "      %d thư bị xóa bên cũ trong lúc chép / deleted on the old side during the copy\n", f.Vanished)
		}
		for _, warn := range f.Warnings {
			fmt.Fprintf(w, "      lưu ý / note: %s\n", warn)
		}
		if f.Err != nil {
			fmt.Fprintf(w, "      lỗi / error: %v\n", f.Err)
		}
		writeSkips(w, f.Skipped)
		if f.Err == nil && len(f.Skipped) == 0 && f.Present != f.SourceCount {
			fmt.Fprintf(w, "      thiếu / missing: %d thư bên cũ chưa có bản sao / old messages without a copy\n", f.SourceCount-f.Present)
		}
	}
	copied, bytes, _ := a.totals()
	mps, mbps := Rates(copied, bytes, a.Duration)
	fmt.Fprintf(w, "   %d thư / messages, %s, %s: %.1f thư/s / msg/s, %.2f MB/s\n", copied, formatBytes(bytes), a.Duration.Round(time.Millisecond), mps, mbps)
}

// writeSkips groups skipped messages by reason, with a few UIDs each.
func writeSkips(w io.Writer, skips []Skip) {
	if len(skips) == 0 {
		return
	}
	by := map[string][]uint32{}
	var reasons []string
	for _, s := range skips {
		if _, ok := by[s.Reason]; !ok {
			reasons = append(reasons, s.Reason)
		}
		by[s.Reason] = append(by[s.Reason], s.UID)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		uids := by[r]
		list := make([]string, 0, 10)
		for i, u := range uids {
			if i == 10 {
				list = append(list, "…")
				break
			}
			list = append(list, fmt.Sprint(u))
		}
		fmt.Fprintf(w, "      bỏ qua / skipped %d: %s (UID %s)\n", len(uids), r, strings.Join(list, ", "))
	}
}

func formatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// Progress counts a run as it goes; Run prints it.
type Progress struct {
	AccountsTotal   atomic.Int64
	AccountsStarted atomic.Int64
	AccountsDone    atomic.Int64
	// Planned counts messages (and bytes, where the source says) still to copy
	// as the accounts started so far found them.
	PlannedMessages atomic.Int64
	PlannedBytes    atomic.Int64
	Messages        atomic.Int64
	Bytes           atomic.Int64
	Started         time.Time
}

func (p *Progress) add(msgs int, bytes int64) {
	if p == nil {
		return
	}
	p.Messages.Add(int64(msgs))
	p.Bytes.Add(bytes)
}

func (p *Progress) plan(msgs int, bytes int64) {
	if p == nil {
		return
	}
	p.PlannedMessages.Add(int64(msgs))
	p.PlannedBytes.Add(bytes)
}

// Line renders the progress at now: accounts done, messages and bytes copied,
// rates, and the time left, extrapolated to accounts not started yet.
func (p *Progress) Line(now time.Time) string {
	el := now.Sub(p.Started)
	msgs, bytes := p.Messages.Load(), p.Bytes.Load()
	mps, mbps := Rates(int(msgs), bytes, el)
	planned := p.PlannedMessages.Load()
	total, started := p.AccountsTotal.Load(), p.AccountsStarted.Load()
	if started > 0 && total > started {
		planned = planned * total / started
	}
	left := "?"
	if mps > 0 && planned >= msgs && started > 0 {
		left = (time.Duration(float64(planned-msgs)/mps) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("tài khoản / accounts %d/%d · thư / messages %d/%d · %s · %.1f thư/s / msg/s · %.2f MB/s · còn / left ~%s",
		p.AccountsDone.Load(), total, msgs, planned, formatBytes(bytes), mps, mbps, left)
}

// Run prints a line every interval until the returned stop is called, which
// prints the last one.
func (p *Progress) Run(w io.Writer, clk clock.Clock, every time.Duration) (stop func()) {
	if every <= 0 {
		every = 2 * time.Second
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintln(w, p.Line(clk.Now()))
			case <-quit:
				fmt.Fprintln(w, p.Line(clk.Now()))
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
		})
	}
}

// batcher writes one folder's messages in bounded transactions from a
// goroutine of its own, so that fetching the next messages overlaps with the
// fsync of the last batch. At most three batches exist at once: the one being
// filled, one queued and one being committed.
type batcher struct {
	im       *Importer
	ctx      context.Context
	folderID int64
	cur      []store.ImportMessage
	curBytes int
	ch       chan []store.ImportMessage
	done     chan struct{}

	// Written by the writer goroutine; read after close.
	err                   error
	failed                atomic.Bool
	copied, reused, known int
	bytes                 int64
	skips                 []Skip
}

func (im *Importer) newBatcher(ctx context.Context, folderID int64) *batcher {
	b := &batcher{im: im, ctx: ctx, folderID: folderID, ch: make(chan []store.ImportMessage, 1), done: make(chan struct{})}
	go b.writer()
	return b
}

func (b *batcher) writer() {
	defer close(b.done)
	for batch := range b.ch {
		if b.err != nil {
			continue // drain: the fetcher stops at its next add
		}
		out, err := b.im.State.AppendImported(b.ctx, b.folderID, batch)
		if err != nil {
			b.err = fmt.Errorf("store: %w", err)
			b.failed.Store(true)
			continue
		}
		var n int
		var bytes int64
		for i, o := range out {
			switch {
			case errors.Is(o.Err, store.ErrQuotaExceeded):
				b.skips = append(b.skips, Skip{UID: batch[i].SrcUID, Reason: ReasonQuota})
			case o.Err != nil:
				b.skips = append(b.skips, Skip{UID: batch[i].SrcUID, Reason: o.Err.Error()})
			case o.Known:
				b.known++
			case o.Reused:
				b.reused++
				n++
			default:
				b.copied++
				size := int64(len(batch[i].Msg.Raw))
				b.bytes += size
				bytes += size
				n++
			}
		}
		b.im.Progress.add(n, bytes)
	}
}

// add queues one message; it returns the writer's error once one happened.
func (b *batcher) add(m store.ImportMessage) error {
	if b.failed.Load() {
		return errors.New("store write failed")
	}
	b.cur = append(b.cur, m)
	b.curBytes += len(m.Msg.Raw)
	if b.curBytes >= b.im.batchBytes() || len(b.cur) >= b.im.batchMessages() {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if len(b.cur) == 0 {
		return nil
	}
	select {
	case b.ch <- b.cur:
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	b.cur, b.curBytes = nil, 0
	return nil
}

// close writes what is left, waits for the writer and adds its counts to fr.
func (b *batcher) close(fr *FolderReport) error {
	ferr := b.flush()
	close(b.ch)
	<-b.done
	fr.Copied += b.copied
	fr.Bytes += b.bytes
	fr.Reused += b.reused
	fr.Present += b.copied + b.reused + b.known
	fr.Skipped = append(fr.Skipped, b.skips...)
	if b.err != nil {
		return b.err
	}
	return ferr
}

func sameFlags(a, b []string) bool {
	a, b = store.NormFlags(a), store.NormFlags(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
