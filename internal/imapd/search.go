package imapd

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"govmail/internal/mailparse"
	"govmail/internal/store"
	"govmail/internal/textfold"
)

// Search serves SEARCH and UID SEARCH with every key of RFC 3501 (ESEARCH and
// SEARCHRES through the library). Text keys are accent-insensitive (R5.1,
// DESIGN decision 6): TEXT and BODY use the store's index of folded text, which
// also holds the decoded Subject, From, To and Cc; SUBJECT, FROM, TO, CC and BCC
// fold the decoded envelope stored at delivery; other HEADER keys read the
// message's header block.
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	v := s.sel
	refs := v.all()
	se := &searcher{s: s, v: v, texts: map[string][]uint32{}, queries: map[string]mailparse.Query{}}
	if n := len(refs); n > 0 {
		se.maxSeq, se.maxUID = refs[n-1].seq, refs[n-1].uid
	}
	var need searchNeeds
	need.of(criteria)
	cands := make([]candidate, len(refs))
	for i, r := range refs {
		cands[i].ref = r
	}
	if need.rows && len(refs) > 0 {
		msgs, err := s.srv.store.MessagesByUID(s.srv.ctx, v.id, refUIDs(refs), need.meta)
		if err != nil {
			return nil, s.fail("search", err)
		}
		// Both lists are in UID order; a message missing from msgs was
		// expunged meanwhile and matches nothing.
		j := 0
		for i := range cands {
			for j < len(msgs) && msgs[j].UID < cands[i].uid {
				j++
			}
			if j < len(msgs) && msgs[j].UID == cands[i].uid {
				cands[i].m = &msgs[j]
			}
		}
	}

	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	for i := range cands {
		c := &cands[i]
		if need.rows && c.m == nil {
			continue
		}
		ok, err := se.match(c, criteria)
		if err != nil {
			return nil, s.fail("search", err)
		}
		if !ok {
			continue
		}
		seqs.AddNum(c.seq)
		uids.AddNum(imap.UID(c.uid))
		num := c.seq
		if kind == imapserver.NumKindUID {
			num = c.uid
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		data.Max = max(data.Max, num)
		data.Count++
	}
	// All is always a typed set, possibly empty: the library's ESEARCH writer
	// cannot handle a nil NumSet.
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if options.ReturnSave {
		v.searchRes = uids
	}
	return data, nil
}

// searchNeeds is what a SEARCH must read besides the UID list.
type searchNeeds struct {
	rows bool // flags, dates, sizes, blob ids
	meta bool // the stored envelope
}

func (n *searchNeeds) of(c *imap.SearchCriteria) {
	if !c.Since.IsZero() || !c.Before.IsZero() || len(c.Flag) > 0 || len(c.NotFlag) > 0 || c.Larger != 0 || c.Smaller != 0 {
		n.rows = true
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		n.rows, n.meta = true, true
	}
	for _, h := range c.Header {
		n.rows = true // the envelope, or the blob id to read the header block
		if envelopeKey(h.Key) && h.Value != "" {
			n.meta = true
		}
	}
	for i := range c.Not {
		n.of(&c.Not[i])
	}
	for i := range c.Or {
		n.of(&c.Or[i][0])
		n.of(&c.Or[i][1])
	}
}

// envelopeKey tells the header keys answered from the stored envelope.
func envelopeKey(key string) bool {
	switch strings.ToLower(key) {
	case "subject", "from", "to", "cc", "bcc":
		return true
	}
	return false
}

type searcher struct {
	s      *session
	v      *view
	maxSeq uint32 // the client's "*"
	maxUID uint32
	// texts caches the store's answer per TEXT/BODY string: one index query
	// per SEARCH, not one per message.
	texts   map[string][]uint32
	queries map[string]mailparse.Query
}

type candidate struct {
	ref
	m      *store.Message // nil unless rows were read
	env    *imap.Envelope
	envErr error
	raw    []byte
}

func (se *searcher) match(c *candidate, cr *imap.SearchCriteria) (bool, error) {
	for _, set := range cr.SeqNum {
		if !inSet(set, c.seq, se.maxSeq) {
			return false, nil
		}
	}
	for _, set := range cr.UID {
		if imap.IsSearchRes(set) {
			set = se.v.searchRes
		}
		if !inUIDSet(set, c.uid, se.maxUID) {
			return false, nil
		}
	}
	if !cr.Since.IsZero() || !cr.Before.IsZero() {
		if !dateIn(c.m.InternalDate, cr.Since, cr.Before) {
			return false, nil
		}
	}
	for _, f := range cr.Flag {
		if !store.HasFlag(c.m.Flags, string(f)) {
			return false, nil // \Recent is never set: NEW matches nothing
		}
	}
	for _, f := range cr.NotFlag {
		if store.HasFlag(c.m.Flags, string(f)) {
			return false, nil
		}
	}
	if cr.Larger != 0 && c.m.Size <= cr.Larger {
		return false, nil
	}
	if cr.Smaller != 0 && c.m.Size >= cr.Smaller {
		return false, nil
	}
	if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
		env, err := se.envelope(c)
		if err != nil {
			return false, err
		}
		if env == nil || env.Date.IsZero() || !dateIn(env.Date, cr.SentSince, cr.SentBefore) {
			return false, nil
		}
	}
	for _, q := range cr.Body {
		if ok, err := se.text(c.uid, q); !ok || err != nil {
			return false, err
		}
	}
	for _, q := range cr.Text {
		if ok, err := se.text(c.uid, q); !ok || err != nil {
			return false, err
		}
	}
	for _, h := range cr.Header {
		if ok, err := se.header(c, h); !ok || err != nil {
			return false, err
		}
	}
	for i := range cr.Not {
		ok, err := se.match(c, &cr.Not[i])
		if ok || err != nil {
			return false, err
		}
	}
	for i := range cr.Or {
		ok, err := se.match(c, &cr.Or[i][0])
		if err != nil {
			return false, err
		}
		if !ok {
			if ok, err = se.match(c, &cr.Or[i][1]); !ok || err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// text matches TEXT and BODY through the store's folded index. The index holds
// the decoded Subject, From, To and Cc besides the body text, so BODY is
// answered as leniently as TEXT.
func (se *searcher) text(uid uint32, q string) (bool, error) {
	hits, ok := se.texts[q]
	if !ok {
		var err error
		if hits, err = se.s.srv.store.SearchText(se.s.srv.ctx, se.v.id, q); err != nil {
			return false, err
		}
		slices.Sort(hits)
		se.texts[q] = hits
	}
	_, found := slices.BinarySearch(hits, uid)
	return found, nil
}

func (se *searcher) query(q string) mailparse.Query {
	fq, ok := se.queries[q]
	if !ok {
		fq = mailparse.NewQuery(q)
		se.queries[q] = fq
	}
	return fq
}

func (se *searcher) header(c *candidate, h imap.SearchCriteriaHeaderField) (bool, error) {
	key := strings.ToLower(h.Key)
	if h.Value != "" && envelopeKey(key) {
		env, err := se.envelope(c)
		if err != nil || env == nil {
			return false, err
		}
		var text string
		switch key {
		case "subject":
			text = env.Subject
		case "from":
			text = addressText(env.From)
		case "to":
			text = addressText(env.To)
		case "cc":
			text = addressText(env.Cc)
		case "bcc":
			text = addressText(env.Bcc)
		}
		return se.matchField(text, h.Value), nil
	}
	// Any other field, or an empty value (which asks whether the field is
	// present), is read from the header block of the message.
	raw, err := se.raw(c)
	if err != nil || raw == nil {
		return false, err
	}
	values := mailparse.HeaderValue(raw, h.Key)
	if h.Value == "" {
		return values != nil, nil
	}
	for _, val := range values {
		if se.matchField(val, h.Value) {
			return true, nil
		}
	}
	return false, nil
}

// matchField matches a header value folded. Words match in any order ("bao cao"
// finds "Báo cáo tháng"), except in an address, which is matched as one phrase:
// "an@sonla.gov.vn" must not find "Lò Văn Dũng <dung@sonla.gov.vn>" through
// the "an" of "Văn".
func (se *searcher) matchField(text, value string) bool {
	q := se.query(value)
	folded := textfold.Search(text)
	if strings.ContainsRune(value, '@') {
		return strings.Contains(folded, strings.Join(q, " "))
	}
	return q.Match(folded)
}

// envelope decodes the stored envelope once per message, parsing the body only
// for a message stored without readable metadata.
func (se *searcher) envelope(c *candidate) (*imap.Envelope, error) {
	if c.env != nil || c.envErr != nil {
		return c.env, c.envErr
	}
	env, err := mailparse.DecodeEnvelope(c.m.Meta)
	if err != nil {
		raw, rerr := se.raw(c)
		if rerr != nil || raw == nil {
			c.envErr = rerr
			return nil, rerr
		}
		env = mailparse.Parse(raw).Envelope
	}
	c.env = env
	return env, nil
}

func (se *searcher) raw(c *candidate) ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	raw, err := se.s.srv.store.ReadBlob(se.s.srv.ctx, c.m.BlobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // expunged meanwhile: matches nothing
	}
	c.raw = raw
	return raw, err
}

// addressText renders addresses as "Name <box@host>, …" for folding.
func addressText(addrs []imap.Address) string {
	var b strings.Builder
	for i, a := range addrs {
		if i > 0 {
			b.WriteString(", ")
		}
		if a.Name != "" {
			b.WriteString(a.Name)
			b.WriteString(" ")
		}
		b.WriteString("<")
		b.WriteString(a.Addr())
		b.WriteString(">")
	}
	return b.String()
}

// dateIn compares the calendar date of t, in the zone t carries, with the
// SEARCH dates, which disregard time and zone (RFC 3501 6.4.4).
func dateIn(t, since, before time.Time) bool {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && day.Before(since) {
		return false
	}
	if !before.IsZero() && !day.Before(before) {
		return false
	}
	return true
}

func inSet(set imap.SeqSet, n, max uint32) bool {
	for _, r := range set {
		start, stop := staticRange(r.Start, r.Stop, max)
		if n >= start && n <= stop {
			return true
		}
	}
	return false
}

func inUIDSet(set imap.UIDSet, uid, max uint32) bool {
	for _, r := range set {
		start, stop := staticRange(uint32(r.Start), uint32(r.Stop), max)
		if uid >= start && uid <= stop {
			return true
		}
	}
	return false
}
