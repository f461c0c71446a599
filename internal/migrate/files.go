package migrate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/store"
)

// FileOptions configure an mbox or maildir import.
type FileOptions struct {
	Address string // our account
	// Folder is our folder for the messages; "" is INBOX, and for a maildir
	// also means: its Maildir++ sub-folders go to folders of their own names.
	Folder string
	// MboxRD unescapes ">From " lines (the mboxrd format); other mbox files
	// keep them as they are.
	MboxRD bool
}

// fileMsg is one message read from a file source.
type fileMsg struct {
	raw   []byte
	date  time.Time // zero: from the Date header, else now
	flags []string
	// size is the length the source says the message has with CRLF line ends
	// (maildir ",W="), -1 when it does not say.
	size int64
}

// fileSource yields a folder's messages in a stable order, io.EOF at the end.
type fileSource func() (*fileMsg, error)

// ImportMbox copies an mbox file into one folder. Line ends become CRLF, as
// an IMAP server serves mbox mail; nothing else in a message changes.
// Messages are numbered in file order: a second run copies only messages
// appended since (mbox files grow at the end), and a file rewritten at its
// start is matched by content, never copied twice.
func (im *Importer) ImportMbox(ctx context.Context, path string, opts FileOptions) (*AccountReport, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	defer f.Close()
	rep, acct, err := im.fileAccount(ctx, "mbox:"+abs, opts.Address)
	if err != nil {
		return rep, err
	}
	target := opts.Folder
	if target == "" {
		target = "INBOX"
	}
	mr := &mboxReader{br: bufio.NewReaderSize(f, 64<<10), rd: opts.MboxRD, loc: im.Clock.Now().Location()}
	rep.Folders = append(rep.Folders, im.importFileFolder(ctx, acct, rep.Source, target, folderPlan{Source: filepath.Base(abs), Target: target}, mr.next))
	im.finishFileAccount(ctx, rep)
	return rep, nil
}

// ImportMaildir copies a maildir. With opts.Folder set its messages go to
// that folder; without, the maildir is the INBOX and its Maildir++
// sub-folders (".Sent", ".Công văn.Đến" in modified UTF-7) go to folders of
// their names, special folders mapped to ours.
func (im *Importer) ImportMaildir(ctx context.Context, path string, opts FileOptions) (*AccountReport, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if !isMaildir(abs) {
		return nil, fmt.Errorf("%s: không phải maildir (thiếu cur/ và new/) / not a maildir (no cur/ or new/)", abs)
	}
	rep, acct, err := im.fileAccount(ctx, "maildir:"+abs, opts.Address)
	if err != nil {
		return rep, err
	}
	type sub struct {
		dir  string
		plan folderPlan
	}
	subs := []sub{{abs, folderPlan{Source: "INBOX", Target: "INBOX"}}}
	if opts.Folder != "" {
		subs[0].plan = folderPlan{Source: opts.Folder, Target: opts.Folder}
	} else {
		ents, err := os.ReadDir(abs)
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		for _, e := range ents {
			n := e.Name()
			if !e.IsDir() || len(n) < 2 || n[0] != '.' || n == ".." || !isMaildir(filepath.Join(abs, n)) {
				continue
			}
			name, err := decodeMUTF7(n[1:])
			if err != nil {
				name = n[1:] // a name that is not modified UTF-7 is taken as written
			}
			subs = append(subs, sub{filepath.Join(abs, n), planFolder(name, '.', nil, "")})
		}
	}
	for _, s := range subs {
		src, err := maildirSource(s.dir)
		if err != nil {
			rep.Folders = append(rep.Folders, &FolderReport{Source: s.plan.Source, Target: s.plan.Target, Err: err})
			continue
		}
		rep.Folders = append(rep.Folders, im.importFileFolder(ctx, acct, rep.Source, s.plan.Source, s.plan, src))
		if ctx.Err() != nil {
			rep.Err = ctx.Err()
			break
		}
	}
	im.finishFileAccount(ctx, rep)
	return rep, nil
}

func (im *Importer) fileAccount(ctx context.Context, source, address string) (*AccountReport, *store.Account, error) {
	rep := &AccountReport{Address: address, Source: source, Started: im.Clock.Now()}
	acct, err := im.Store.AccountByAddress(ctx, address)
	if err != nil {
		return rep, nil, fmt.Errorf("không có hộp thư / no mailbox %s: %w", address, err)
	}
	if p := im.Progress; p != nil {
		p.AccountsTotal.Add(1)
		p.AccountsStarted.Add(1)
	}
	return rep, acct, nil
}

func (im *Importer) finishFileAccount(ctx context.Context, rep *AccountReport) {
	rep.Duration = im.Clock.Now().Sub(rep.Started)
	im.countOurs(ctx, rep)
	im.audit(context.WithoutCancel(ctx), rep)
	if p := im.Progress; p != nil {
		p.AccountsDone.Add(1)
	}
}

// fingerprint stands for a file source's UIDVALIDITY: it changes when the
// first message does, i.e. when the file was rewritten rather than appended to.
func fingerprint(m *fileMsg) uint32 {
	h := sha256.Sum256(m.raw[:min(len(m.raw), 4096)])
	if v := binary.BigEndian.Uint32(h[:4]); v != 0 {
		return v
	}
	return 1
}

// importFileFolder copies one file source's messages, numbered 1, 2, … in
// their stable order, into the plan's folder.
func (im *Importer) importFileFolder(ctx context.Context, acct *store.Account, source, key string, p folderPlan, next fileSource) *FolderReport {
	fr := &FolderReport{Source: p.Source, Target: p.Target}
	first, err := next()
	if err != nil && !errors.Is(err, io.EOF) {
		fr.Err = err
		return fr
	}
	st, err := im.State.ImportFolder(ctx, acct.ID, source, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		mb, err := im.Store.MailboxByName(ctx, acct.ID, p.Target)
		if errors.Is(err, store.ErrNotFound) {
			mb, err = im.Store.CreateMailbox(ctx, acct.ID, p.Target, p.Special)
		}
		if err != nil {
			fr.Err = fmt.Errorf("our folder %q: %w", p.Target, err)
			return fr
		}
		st = &store.ImportFolder{AccountID: acct.ID, Source: source, Folder: key, MailboxID: mb.ID, UIDValidity: 1}
	case err != nil:
		fr.Err = err
		return fr
	}
	renewed := false
	if first != nil {
		v := fingerprint(first)
		renewed = st.ID != 0 && st.UIDValidity != v
		if renewed {
			fr.Warnings = append(fr.Warnings, "tệp đã bị viết lại từ đầu: thư được đối chiếu theo nội dung / the file was rewritten: messages matched by content")
			st.LastUID = 0
		}
		st.UIDValidity = v
	}
	if err := im.State.SaveImportFolder(ctx, st); err != nil {
		fr.Err = err
		return fr
	}
	fr.mailboxID = st.MailboxID
	b := im.newBatcher(ctx, st.ID)
	var ordinal, winHi uint32
	mapped := map[uint32]bool{}
	for m := first; m != nil; {
		ordinal++
		if ordinal > winHi {
			// The map is read a window at a time, like the messages.
			winHi = ordinal + 999
			rows, err := im.State.ImportedUIDs(ctx, st.ID, st.UIDValidity, ordinal, winHi)
			if err != nil {
				fr.Err = err
				break
			}
			clear(mapped)
			for _, r := range rows {
				mapped[r.Src] = true
			}
		}
		if mapped[ordinal] {
			fr.Present++
		} else {
			fr.Fetched++
			if m.size >= 0 && m.size != int64(len(m.raw)) {
				fr.skip(ordinal, fmt.Sprintf("%s (%d ≠ W=%d)", ReasonSize, len(m.raw), m.size))
			}
			nm, parsed := delivery.Prepare(m.raw, m.date)
			if m.date.IsZero() {
				nm.InternalDate = parsed.Date
				if nm.InternalDate.IsZero() {
					nm.InternalDate = im.Clock.Now()
				}
			}
			if err := b.add(store.ImportMessage{SrcUID: ordinal, Msg: nm, Flags: store.NormFlags(m.flags)}); err != nil {
				fr.Err = err
				break
			}
		}
		if ctx.Err() != nil {
			fr.Err = ctx.Err()
			break
		}
		m, err = next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fr.Err = err
			break
		}
	}
	fr.SourceCount = int(ordinal)
	if err := b.close(fr); err != nil && fr.Err == nil {
		fr.Err = err
	}
	if fr.Err != nil {
		return fr
	}
	if renewed {
		n, err := im.State.DropImportOrphans(ctx, st.ID, false)
		if err != nil {
			fr.Err = err
			return fr
		}
		fr.DeletedKept += n
	}
	st.LastUID = max(st.LastUID, ordinal)
	st.UIDNext = ordinal + 1
	st.SyncedAt = im.Clock.Now()
	if err := im.State.SaveImportFolder(ctx, st); err != nil {
		fr.Err = err
	}
	return fr
}

// writeCRLF appends line with a CRLF end: IMAP serves CRLF, and files keep
// LF. A CRLF already there and a last line without any end stay as they are.
func writeCRLF(buf *bytes.Buffer, line []byte) {
	if n := len(line); n > 0 && line[n-1] == '\n' && (n == 1 || line[n-2] != '\r') {
		buf.Write(line[:n-1])
		buf.WriteString("\r\n")
		return
	}
	buf.Write(line)
}

func isBlank(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}

// mboxReader splits an mbox file into messages, one at a time.
type mboxReader struct {
	br      *bufio.Reader
	rd      bool
	loc     *time.Location
	fromAt  []byte // the From_ line of the next message, already read
	started bool
	done    bool
}

// isFromLine tells a message separator from a body line that happens to begin
// with "From " (mboxo writers do not escape those): a separator follows a
// blank line and carries a time of day ("From sender Mon Jan  2 15:04:05 2006").
func isFromLine(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	for i := 0; i+4 < len(line); i++ {
		if isDigit(line[i]) && isDigit(line[i+1]) && line[i+2] == ':' && isDigit(line[i+3]) && isDigit(line[i+4]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// fromLineDate reads the date of a From_ line, written in the writer's local
// time, which for the province's old system is the province's.
func (m *mboxReader) fromLineDate(line []byte) time.Time {
	f := strings.Fields(string(line))
	if len(f) < 3 {
		return time.Time{}
	}
	s := strings.Join(f[2:], " ")
	for _, layout := range []string{"Mon Jan 2 15:04:05 2006", "Mon Jan 2 15:04:05 -0700 2006", "Mon Jan 2 15:04:05 MST 2006", "Mon Jan 2 15:04 2006"} {
		if t, err := time.ParseInLocation(layout, s, m.loc); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (m *mboxReader) next() (*fileMsg, error) {
	if !m.started {
		m.started = true
		for {
			line, err := m.br.ReadBytes('\n')
			if len(line) > 0 && !isBlank(line) {
				if !bytes.HasPrefix(line, []byte("From ")) {
					return nil, errors.New("mbox: tệp không bắt đầu bằng dòng \"From \" / the file does not start with a \"From \" line")
				}
				m.fromAt = line
				break
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			if err != nil {
				return nil, fmt.Errorf("mbox: %w", err)
			}
		}
	}
	if m.fromAt == nil {
		return nil, io.EOF
	}
	msg := &fileMsg{date: m.fromLineDate(m.fromAt), size: -1}
	m.fromAt = nil
	var buf bytes.Buffer
	prevBlank, inHeader := false, true
	var status, xstatus string
	for {
		line, err := m.br.ReadBytes('\n')
		if len(line) > 0 {
			if prevBlank && isFromLine(line) {
				m.fromAt = line
				break
			}
			blank := isBlank(line)
			if inHeader {
				if blank {
					inHeader = false
				} else if k, v, ok := strings.Cut(string(bytes.TrimRight(line, "\r\n")), ":"); ok {
					switch strings.ToLower(k) {
					case "status":
						status = strings.TrimSpace(v)
					case "x-status":
						xstatus = strings.TrimSpace(v)
					case "x-keywords":
						msg.flags = append(msg.flags, strings.Fields(v)...)
					}
				}
			}
			if m.rd && len(line) > 5 && line[0] == '>' && bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
				line = line[1:]
			}
			writeCRLF(&buf, line)
			prevBlank = blank
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mbox: %w", err)
		}
	}
	raw := buf.Bytes()
	if prevBlank && bytes.HasSuffix(raw, []byte("\r\n")) {
		// The blank line before the next From_ line (or the end) is the
		// separator's, not the message's.
		raw = raw[:len(raw)-2]
	}
	msg.raw = raw
	// Status: R read (O only "not new"); X-Status: A answered, F flagged,
	// T draft, D deleted, as mutt and Dovecot write them.
	if strings.Contains(status, "R") {
		msg.flags = append(msg.flags, `\Seen`)
	}
	for _, c := range xstatus {
		switch c {
		case 'A':
			msg.flags = append(msg.flags, `\Answered`)
		case 'F':
			msg.flags = append(msg.flags, `\Flagged`)
		case 'T':
			msg.flags = append(msg.flags, `\Draft`)
		case 'D':
			msg.flags = append(msg.flags, `\Deleted`)
		}
	}
	return msg, nil
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

type maildirFile struct {
	path, key, info string
}

// maildirSource lists a maildir's messages (cur/ and new/, tmp/ is not
// delivered yet) ordered by their unique names, which begin with the delivery
// time: new mail sorts last and a message moved from new/ to cur/ keeps its place.
func maildirSource(dir string) (fileSource, error) {
	var files []maildirFile
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("maildir: %w", err)
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") {
				continue
			}
			key, info := n, ""
			// ":2,FLAGS" (or "!2," where ':' is not allowed in file names).
			if i := strings.LastIndexAny(n, ":!"); i > 0 && strings.HasPrefix(n[i+1:], "2,") {
				key, info = n[:i], n[i+3:]
			}
			files = append(files, maildirFile{path: filepath.Join(dir, sub, n), key: key, info: info})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })
	keywords := readDovecotKeywords(dir)
	i := 0
	return func() (*fileMsg, error) {
		if i >= len(files) {
			return nil, io.EOF
		}
		f := files[i]
		i++
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
		var buf bytes.Buffer
		buf.Grow(len(data) + len(data)/32)
		for len(data) > 0 {
			line := data
			if k := bytes.IndexByte(data, '\n'); k >= 0 {
				line = data[:k+1]
			}
			writeCRLF(&buf, line)
			data = data[len(line):]
		}
		// The delivery agent's mtime is the received date (Dovecot's INTERNALDATE).
		m := &fileMsg{raw: buf.Bytes(), date: fi.ModTime(), size: -1}
		if k := strings.Index(f.key, ",W="); k >= 0 {
			v := f.key[k+3:]
			if e := strings.IndexAny(v, ",:"); e >= 0 {
				v = v[:e]
			}
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				m.size = n
			}
		}
		for _, c := range f.info {
			switch {
			case c == 'D':
				m.flags = append(m.flags, `\Draft`)
			case c == 'F':
				m.flags = append(m.flags, `\Flagged`)
			case c == 'P':
				m.flags = append(m.flags, `$Forwarded`)
			case c == 'R':
				m.flags = append(m.flags, `\Answered`)
			case c == 'S':
				m.flags = append(m.flags, `\Seen`)
			case c == 'T':
				m.flags = append(m.flags, `\Deleted`)
			case c >= 'a' && c <= 'z':
				if kw := keywords[int(c-'a')]; kw != "" {
					m.flags = append(m.flags, kw)
				}
			}
		}
		return m, nil
	}, nil
}

// readDovecotKeywords reads Dovecot's per-folder keyword list ("0 $Label1"),
// which the letters a–z of maildir file names index.
func readDovecotKeywords(dir string) map[int]string {
	out := map[int]string{}
	data, err := os.ReadFile(filepath.Join(dir, "dovecot-keywords"))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		idx, kw, ok := strings.Cut(strings.TrimSpace(line), " ")
		if n, err := strconv.Atoi(idx); ok && err == nil && n >= 0 && n < 26 {
			out[n] = strings.TrimSpace(kw)
		}
	}
	return out
}
