package imapd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/mailparse"
	"govmail/internal/store"
)

// Chunks of a FETCH: the first is small so the first responses leave at once,
// later ones grow to fetchChunk rows, which bounds what one FETCH of a huge
// mailbox holds in memory.
const (
	firstFetchChunk = 256
	fetchChunk      = 2000
)

func (s *session) Fetch(w *imapserver.FetchWriter, set imap.NumSet, options *imap.FetchOptions) error {
	v := s.sel
	return s.fetchRefs(w, v, v.resolve(set), options)
}

// fetchRefs writes FETCH responses for refs, corked (see cork.go).
func (s *session) fetchRefs(w *imapserver.FetchWriter, v *view, refs []ref, o *imap.FetchOptions) error {
	s.cork.cork()
	err := s.writeFetch(w, v, refs, o)
	if uerr := s.cork.uncork(); err == nil {
		err = uerr
	}
	return err
}

// fetchItem is one message ready to be written.
type fetchItem struct {
	seq  uint32
	m    *store.Message
	env  *imap.Envelope
	bs   imap.BodyStructure
	meta error // the stored metadata could not be decoded
}

type fetchBatch struct {
	items []fetchItem
	msgs  []store.Message
	err   error
}

// writeFetch writes FETCH responses for refs. Flags, sizes and dates come from
// the message rows, ENVELOPE and BODYSTRUCTURE from the metadata stored at
// delivery (one store call per chunk, no body parsed); only body sections read
// the message itself. Reading and decoding the next chunk overlaps writing the
// current one: the database and the library's encoder each take about half of
// a large FETCH, and together they would not fit its budget.
func (s *session) writeFetch(w *imapserver.FetchWriter, v *view, refs []ref, o *imap.FetchOptions) error {
	markSeen := false
	if !v.readOnly {
		for _, bs := range o.BodySection {
			markSeen = markSeen || !bs.Peek
		}
		for _, bs := range o.BinarySection {
			markSeen = markSeen || !bs.Peek
		}
	}
	ctx, cancel := context.WithCancel(s.srv.ctx)
	batches := make(chan fetchBatch, 1)
	defer func() {
		// Stop the reader and wait for it, so no store call outlives the command.
		cancel()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		size := firstFetchChunk
		names := wordCache{}
		for len(refs) > 0 {
			chunk := refs[:min(len(refs), size)]
			refs = refs[len(chunk):]
			size = min(2*size, fetchChunk)
			b := s.readFetchBatch(ctx, v, chunk, o, names)
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for b := range batches {
		if b.err != nil {
			return s.fail("fetch", b.err)
		}
		var seen map[uint32][]string // messages this FETCH marked \Seen, with their new flags
		if markSeen {
			var err error
			if seen, err = s.markSeen(v, b.msgs); err != nil {
				return s.fail("fetch", err)
			}
		}
		for i := range b.items {
			it := &b.items[i]
			flags, marked := seen[it.m.UID]
			if !marked {
				flags = it.m.Flags
			}
			if err := s.fetchOne(w, v, it, flags, marked, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// readFetchBatch reads the rows of chunk and decodes their stored metadata.
func (s *session) readFetchBatch(ctx context.Context, v *view, chunk []ref, o *imap.FetchOptions, names wordCache) fetchBatch {
	needMeta := o.Envelope || o.BodyStructure != nil
	msgs, err := s.srv.store.MessagesByUID(ctx, v.id, refUIDs(chunk), needMeta)
	if err != nil {
		return fetchBatch{err: err}
	}
	b := fetchBatch{msgs: msgs, items: make([]fetchItem, 0, len(msgs))}
	j := 0
	for _, r := range chunk {
		for j < len(msgs) && msgs[j].UID < r.uid {
			j++
		}
		if j == len(msgs) || msgs[j].UID != r.uid {
			continue // expunged meanwhile; the client hears of it at the next poll
		}
		it := fetchItem{seq: r.seq, m: &msgs[j]}
		switch {
		case o.BodyStructure != nil:
			it.env, it.bs, it.meta = mailparse.DecodeMeta(it.m.Meta)
		case o.Envelope:
			it.env, it.meta = mailparse.DecodeEnvelope(it.m.Meta) // skips the structure
		}
		if it.env != nil && o.Envelope {
			names.preEncode(it.env)
		}
		b.items = append(b.items, it)
	}
	return b
}

// wordCache pre-encodes envelope text as RFC 2047 words the way imapserver's
// ENVELOPE writer does (mime.QEncoding, UTF-8), in the goroutine that reads
// the next chunk instead of the one that writes: the writer finds ASCII and
// passes it through, so the bytes on the wire are the same and half of the
// writer's cost moves off the critical path. Display names repeat across a
// folder (the same senders, the same recipient), so they are remembered.
type wordCache map[string]string

const wordCacheMax = 4096

func (c wordCache) encode(s string) string {
	if w, ok := c[s]; ok {
		return w
	}
	w := mime.QEncoding.Encode("utf-8", s)
	if len(c) < wordCacheMax {
		c[s] = w
	}
	return w
}

func (c wordCache) preEncode(env *imap.Envelope) {
	env.Subject = mime.QEncoding.Encode("utf-8", env.Subject)
	for _, l := range [][]imap.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		for i := range l {
			if l[i].Name != "" {
				l[i].Name = c.encode(l[i].Name)
			}
		}
	}
}

// markSeen sets \Seen on the messages of msgs that lack it (FETCH BODY[] is a
// read, RFC 3501 6.4.5) and returns their new flags.
func (s *session) markSeen(v *view, msgs []store.Message) (map[uint32][]string, error) {
	var uids []uint32
	for i := range msgs {
		if !store.HasFlag(msgs[i].Flags, string(imap.FlagSeen)) {
			uids = append(uids, msgs[i].UID)
		}
	}
	if len(uids) == 0 {
		return nil, nil
	}
	changed, err := s.storeFlags(v, store.FlagsAdd, []string{string(imap.FlagSeen)}, uids)
	if err != nil {
		return nil, err
	}
	out := make(map[uint32][]string, len(changed))
	for _, m := range changed {
		out[m.UID] = m.Flags
	}
	return out, nil
}

// fetchOne gathers everything for one message before writing: once a FETCH
// response is started the connection is committed to finishing it.
func (s *session) fetchOne(w *imapserver.FetchWriter, v *view, it *fetchItem, flags []string, marked bool, o *imap.FetchOptions) error {
	m, env, bs := it.m, it.env, it.bs
	var raw []byte
	readRaw := func() error {
		if raw != nil {
			return nil
		}
		var err error
		raw, err = s.srv.store.ReadBlob(s.srv.ctx, m.BlobID)
		return err
	}
	if len(o.BodySection) > 0 || len(o.BinarySection) > 0 || len(o.BinarySectionSize) > 0 {
		if err := readRaw(); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil // expunged and its body freed meanwhile
			}
			return s.fail("fetch", err)
		}
	}
	if it.meta != nil {
		// A message stored without (or with unreadable) metadata: parse it
		// now rather than fail the whole FETCH.
		s.srv.log.Warn("imap: message metadata unreadable; parsing the body", "mailbox", v.id, "uid", m.UID, "err", it.meta)
		if err := readRaw(); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return s.fail("fetch", err)
		}
		p := mailparse.Parse(raw)
		env, bs = p.Envelope, p.BodyStructure
	}

	rw := w.CreateMessage(it.seq)
	if o.UID {
		rw.WriteUID(imap.UID(m.UID))
	}
	if o.Flags || marked {
		// A \Seen set by this FETCH is reported in it (RFC 3501 6.4.5).
		rw.WriteFlags(imapFlags(flags))
	}
	if o.InternalDate {
		rw.WriteInternalDate(m.InternalDate)
	}
	if o.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if o.Envelope {
		rw.WriteEnvelope(env)
	}
	if o.BodyStructure != nil {
		rw.WriteBodyStructure(bs)
	}
	for _, sec := range o.BodySection {
		var data []byte
		if len(sec.Part) == 0 && sec.Specifier == imap.PartSpecifierNone {
			// BODY[] is the stored bytes themselves, never re-serialised (N2:
			// an S/MIME signature must still verify).
			data = partial(raw, sec.Partial)
		} else {
			data = imapserver.ExtractBodySection(bytes.NewReader(raw), sec)
		}
		if err := writeLiteral(rw.WriteBodySection(sec, int64(len(data))), data); err != nil {
			return err
		}
	}
	for _, sec := range o.BinarySection {
		data := imapserver.ExtractBinarySection(bytes.NewReader(raw), sec)
		if err := writeLiteral(rw.WriteBinarySection(sec, int64(len(data))), data); err != nil {
			return err
		}
	}
	for _, sec := range o.BinarySectionSize {
		rw.WriteBinarySectionSize(sec, imapserver.ExtractBinarySectionSize(bytes.NewReader(raw), sec))
	}
	return rw.Close()
}

type writeCloser interface {
	Write([]byte) (int, error)
	Close() error
}

func writeLiteral(wc writeCloser, data []byte) error {
	_, werr := wc.Write(data)
	cerr := wc.Close()
	if werr != nil {
		return fmt.Errorf("fetch: write literal: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("fetch: write literal: %w", cerr)
	}
	return nil
}

// partial cuts <offset.size> out of b (RFC 3501 6.4.5).
func partial(b []byte, p *imap.SectionPartial) []byte {
	if p == nil {
		return b
	}
	if p.Offset >= int64(len(b)) {
		return nil
	}
	end := min(p.Offset+p.Size, int64(len(b)))
	return b[p.Offset:end]
}

// Store serves STORE and UID STORE.
func (s *session) Store(w *imapserver.FetchWriter, set imap.NumSet, sf *imap.StoreFlags, _ *imap.StoreOptions) error {
	v := s.sel
	if v.readOnly {
		return s.fail("store", errReadOnly)
	}
	refs := v.resolve(set)
	if len(refs) == 0 {
		return nil
	}
	var op store.FlagOp
	switch sf.Op {
	case imap.StoreFlagsSet:
		op = store.FlagsSet
	case imap.StoreFlagsAdd:
		op = store.FlagsAdd
	case imap.StoreFlagsDel:
		op = store.FlagsRemove
	default:
		return fmt.Errorf("store: unknown operation %v", sf.Op)
	}
	if _, err := s.storeFlags(v, op, flagStrings(sf.Flags), refUIDs(refs)); err != nil {
		return s.fail("store", err)
	}
	if sf.Silent {
		return nil
	}
	// Without .SILENT every listed message's flags are reported, changed or not;
	// UID STORE responses carry the UID (RFC 3501 6.4.8).
	_, isUID := set.(imap.UIDSet)
	return s.fetchRefs(w, v, refs, &imap.FetchOptions{Flags: true, UID: isUID})
}

// storeFlags writes flags with the session marked as their author, so that the
// change feed tells every other session and not this one (see selfWrite).
func (s *session) storeFlags(v *view, op store.FlagOp, flags []string, uids []uint32) ([]store.Message, error) {
	b := v.box
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	b.self = &selfWrite{st: v.st, uids: uids}
	b.mu.Unlock()
	changed, err := s.srv.store.StoreFlags(s.srv.ctx, v.id, uids, op, flags)
	b.mu.Lock()
	b.self = nil
	b.mu.Unlock()
	return changed, err
}
