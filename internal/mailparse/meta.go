package mailparse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
)

// The stored form of Envelope and BodyStructure is a small binary format of our own
// rather than JSON or gob: FETCH ENVELOPE of 10,000 messages must take under 50 ms,
// i.e. a few microseconds per row including the database, and it must give back the
// values exactly (reflect.DeepEqual), which JSON cannot (it replaces invalid UTF-8,
// which 8-bit headers produce) and gob does only at a high per-row cost.
//
//	meta     = version(1) uvarint(len(envelope)) envelope structure
//	envelope = presence date string(Subject) addrs×6 strings(InReplyTo) string(MessageID)
//	date     = 0 zero | 1 UTC sec nsec | 2 local sec nsec offset name | 3 fixed sec nsec offset name
//
// Strings are uvarint length and bytes; slices and maps a uvarint of 0 for nil or
// n+1 for n elements (nil and empty differ under DeepEqual); map keys are sorted so
// the encoding is deterministic. The envelope comes first with its length, so that
// DecodeEnvelope reads only it.
const metaVersion = 1

// ErrCorruptMeta is returned by DecodeMeta and DecodeEnvelope for bytes EncodeMeta
// did not produce.
var ErrCorruptMeta = errors.New("mailparse: corrupt metadata")

// maxMetaDepth bounds recursion in both directions; Parse stays far below it, and a
// decoder must not recurse as deep as corrupt bytes ask.
const maxMetaDepth = 4 * MaxDepth

const (
	tagNil byte = iota
	tagSinglePart
	tagMultiPart
)

const (
	dateZero byte = iota
	dateUTC
	dateLocal
	dateFixed
)

// EncodeMeta serialises p.Envelope and p.BodyStructure for one database column.
func EncodeMeta(p *Parsed) ([]byte, error) {
	if p == nil {
		return nil, errors.New("mailparse: EncodeMeta of nil")
	}
	return AppendMeta(make([]byte, 0, 512), p.Envelope, p.BodyStructure)
}

// AppendMeta appends the encoding of env and bs to dst. It fails only for a
// structure nested deeper than Parse ever produces or holding a type that is neither
// *imap.BodyStructureSinglePart nor *imap.BodyStructureMultiPart.
func AppendMeta(dst []byte, env *imap.Envelope, bs imap.BodyStructure) ([]byte, error) {
	dst = append(dst, metaVersion)
	// Reserve room for the envelope length; envelopes are nearly always shorter
	// than 16 KiB, so two bytes, moved if not.
	lenAt := len(dst)
	dst = append(dst, 0, 0)
	dst = appendEnvelope(dst, env)
	n := len(dst) - lenAt - 2
	var tmp [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(tmp[:], uint64(n))
	if l == 2 {
		copy(dst[lenAt:], tmp[:2])
	} else {
		dst = slices.Replace(dst, lenAt, lenAt+2, tmp[:l]...)
	}
	return appendStructure(dst, bs, 0)
}

// DecodeMeta reverses EncodeMeta.
func DecodeMeta(b []byte) (*imap.Envelope, imap.BodyStructure, error) {
	d, envEnd, err := openMeta(b, false)
	if err != nil {
		return nil, nil, err
	}
	env := d.envelope()
	if d.err == nil && d.pos != envEnd {
		d.err = ErrCorruptMeta
	}
	bs := d.structure(0)
	if d.err == nil && d.pos != len(d.s) {
		d.err = ErrCorruptMeta
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return env, bs, nil
}

// DecodeEnvelope decodes only the envelope, for FETCH ENVELOPE.
func DecodeEnvelope(b []byte) (*imap.Envelope, error) {
	d, envEnd, err := openMeta(b, true)
	if err != nil {
		return nil, err
	}
	env := d.envelope()
	if d.err == nil && d.pos != envEnd {
		d.err = ErrCorruptMeta
	}
	if d.err != nil {
		return nil, d.err
	}
	return env, nil
}

// openMeta checks the version and finds the end of the envelope. envOnly copies
// just the envelope's bytes into the string its fields will share.
func openMeta(b []byte, envOnly bool) (*metaDecoder, int, error) {
	if len(b) == 0 {
		return nil, 0, ErrCorruptMeta
	}
	if b[0] != metaVersion {
		return nil, 0, fmt.Errorf("%w: version %d", ErrCorruptMeta, b[0])
	}
	n, l := binary.Uvarint(b[1:])
	if l <= 0 || n > uint64(len(b)-1-l) {
		return nil, 0, ErrCorruptMeta
	}
	start := 1 + l
	end := start + int(n)
	if envOnly {
		b = b[:end]
	}
	// One string conversion for the whole row: every decoded string is a slice of
	// it, so decoding allocates once for all text instead of once per field.
	return &metaDecoder{s: string(b), pos: start}, end, nil
}

// Encoding.

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }
func appendVarint(dst []byte, v int64) []byte   { return binary.AppendVarint(dst, v) }

func appendString(dst []byte, s string) []byte {
	dst = appendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendCount writes the nil-or-length tag of a slice or map.
func appendCount(dst []byte, isNil bool, n int) []byte {
	if isNil {
		return append(dst, 0)
	}
	return appendUvarint(dst, uint64(n)+1)
}

func appendStrings(dst []byte, l []string) []byte {
	dst = appendCount(dst, l == nil, len(l))
	for _, s := range l {
		dst = appendString(dst, s)
	}
	return dst
}

func appendParams(dst []byte, m map[string]string) []byte {
	dst = appendCount(dst, m == nil, len(m))
	if len(m) == 0 {
		return dst
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = appendString(dst, k)
		dst = appendString(dst, m[k])
	}
	return dst
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendDate(dst []byte, t time.Time) []byte {
	loc := t.Location()
	switch {
	case loc == time.UTC && t.IsZero():
		return append(dst, dateZero)
	case loc == time.UTC:
		dst = append(dst, dateUTC)
		dst = appendVarint(dst, t.Unix())
		return appendUvarint(dst, uint64(t.Nanosecond()))
	}
	kind := dateFixed
	if loc == time.Local {
		kind = dateLocal
	}
	name, offset := t.Zone()
	dst = append(dst, kind)
	dst = appendVarint(dst, t.Unix())
	dst = appendUvarint(dst, uint64(t.Nanosecond()))
	dst = appendVarint(dst, int64(offset))
	return appendString(dst, name)
}

func appendAddresses(dst []byte, l []imap.Address) []byte {
	dst = appendCount(dst, l == nil, len(l))
	for _, a := range l {
		dst = appendString(dst, a.Name)
		dst = appendString(dst, a.Mailbox)
		dst = appendString(dst, a.Host)
	}
	return dst
}

func appendEnvelope(dst []byte, env *imap.Envelope) []byte {
	if env == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = appendDate(dst, env.Date)
	dst = appendString(dst, env.Subject)
	for _, l := range [...][]imap.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		dst = appendAddresses(dst, l)
	}
	dst = appendStrings(dst, env.InReplyTo)
	return appendString(dst, env.MessageID)
}

func appendDisposition(dst []byte, d *imap.BodyStructureDisposition) []byte {
	if d == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = appendString(dst, d.Value)
	return appendParams(dst, d.Params)
}

// Flags of a single part saying which optional members follow.
const (
	hasMessage = 1 << iota
	hasText
	hasExtended
)

func appendStructure(dst []byte, bs imap.BodyStructure, depth int) ([]byte, error) {
	if depth > maxMetaDepth {
		return nil, fmt.Errorf("mailparse: body structure deeper than %d", maxMetaDepth)
	}
	switch bs := bs.(type) {
	case nil:
		return append(dst, tagNil), nil
	case *imap.BodyStructureSinglePart:
		if bs == nil {
			return nil, errors.New("mailparse: nil *imap.BodyStructureSinglePart")
		}
		dst = append(dst, tagSinglePart)
		dst = appendString(dst, bs.Type)
		dst = appendString(dst, bs.Subtype)
		dst = appendParams(dst, bs.Params)
		dst = appendString(dst, bs.ID)
		dst = appendString(dst, bs.Description)
		dst = appendString(dst, bs.Encoding)
		dst = appendUvarint(dst, uint64(bs.Size))
		var flags byte
		if bs.MessageRFC822 != nil {
			flags |= hasMessage
		}
		if bs.Text != nil {
			flags |= hasText
		}
		if bs.Extended != nil {
			flags |= hasExtended
		}
		dst = append(dst, flags)
		if m := bs.MessageRFC822; m != nil {
			dst = appendEnvelope(dst, m.Envelope)
			var err error
			if dst, err = appendStructure(dst, m.BodyStructure, depth+1); err != nil {
				return nil, err
			}
			dst = appendVarint(dst, m.NumLines)
		}
		if bs.Text != nil {
			dst = appendVarint(dst, bs.Text.NumLines)
		}
		if ext := bs.Extended; ext != nil {
			dst = appendDisposition(dst, ext.Disposition)
			dst = appendStrings(dst, ext.Language)
			dst = appendString(dst, ext.Location)
		}
		return dst, nil
	case *imap.BodyStructureMultiPart:
		if bs == nil {
			return nil, errors.New("mailparse: nil *imap.BodyStructureMultiPart")
		}
		dst = append(dst, tagMultiPart)
		dst = appendCount(dst, bs.Children == nil, len(bs.Children))
		for _, c := range bs.Children {
			var err error
			if dst, err = appendStructure(dst, c, depth+1); err != nil {
				return nil, err
			}
		}
		dst = appendString(dst, bs.Subtype)
		ext := bs.Extended
		dst = appendBool(dst, ext != nil)
		if ext != nil {
			dst = appendParams(dst, ext.Params)
			dst = appendDisposition(dst, ext.Disposition)
			dst = appendStrings(dst, ext.Language)
			dst = appendString(dst, ext.Location)
		}
		return dst, nil
	default:
		return nil, fmt.Errorf("mailparse: unknown body structure type %T", bs)
	}
}

// Decoding. The decoder records the first error and returns zero values from then
// on, so the code reads straight through; every length is checked against the bytes
// left before anything is allocated.

type metaDecoder struct {
	s   string
	pos int
	err error
}

func (d *metaDecoder) fail() {
	if d.err == nil {
		d.err = ErrCorruptMeta
	}
}

func (d *metaDecoder) byte() byte {
	if d.err != nil || d.pos >= len(d.s) {
		d.fail()
		return 0
	}
	c := d.s[d.pos]
	d.pos++
	return c
}

func (d *metaDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	// binary.Uvarint wants []byte; reading a string by hand avoids a copy.
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos >= len(d.s) {
			break
		}
		c := d.s[d.pos]
		d.pos++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.fail()
	return 0
}

func (d *metaDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *metaDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.pos) {
		d.fail()
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// count reads a nil-or-length tag; each element takes at least minSize bytes, which
// caps allocations at the size of the input.
func (d *metaDecoder) count(minSize int) (n int, isNil bool) {
	v := d.uvarint()
	if d.err != nil {
		return 0, true
	}
	if v == 0 {
		return 0, true
	}
	v--
	if v > uint64((len(d.s)-d.pos)/minSize) {
		d.fail()
		return 0, true
	}
	return int(v), false
}

func (d *metaDecoder) strings() []string {
	n, isNil := d.count(1)
	if isNil {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = d.string()
	}
	if d.err != nil {
		return nil
	}
	return l
}

func (d *metaDecoder) params() map[string]string {
	n, isNil := d.count(2)
	if isNil {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.string()
		m[k] = d.string()
	}
	if d.err != nil {
		return nil
	}
	if len(m) != n {
		d.fail() // a repeated key: EncodeMeta never writes one
		return nil
	}
	return m
}

func (d *metaDecoder) date() time.Time {
	kind := d.byte()
	if kind == dateZero {
		return time.Time{}
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail()
	}
	switch kind {
	case dateUTC:
		if d.err != nil {
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	case dateLocal, dateFixed:
		offset := d.varint()
		name := d.string()
		if offset < math.MinInt32 || offset > math.MaxInt32 {
			d.fail()
		}
		if d.err != nil {
			return time.Time{}
		}
		t := time.Unix(sec, int64(nsec))
		if kind == dateLocal {
			// time.Parse put the date in Local because the offsets matched; on a node
			// whose zone differs they may not, and then the written offset wins.
			lt := t.In(time.Local)
			if _, off := lt.Zone(); int64(off) == offset {
				return lt
			}
		}
		return t.In(time.FixedZone(name, int(offset)))
	default:
		d.fail()
		return time.Time{}
	}
}

func (d *metaDecoder) addresses() []imap.Address {
	n, isNil := d.count(3)
	if isNil {
		return nil
	}
	l := make([]imap.Address, n)
	for i := range l {
		l[i] = imap.Address{Name: d.string(), Mailbox: d.string(), Host: d.string()}
	}
	if d.err != nil {
		return nil
	}
	return l
}

func (d *metaDecoder) envelope() *imap.Envelope {
	switch d.byte() {
	case 0:
		return nil
	case 1:
	default:
		d.fail()
		return nil
	}
	env := &imap.Envelope{Date: d.date(), Subject: d.string()}
	env.From = d.addresses()
	env.Sender = d.addresses()
	env.ReplyTo = d.addresses()
	env.To = d.addresses()
	env.Cc = d.addresses()
	env.Bcc = d.addresses()
	env.InReplyTo = d.strings()
	env.MessageID = d.string()
	if d.err != nil {
		return nil
	}
	return env
}

func (d *metaDecoder) disposition() *imap.BodyStructureDisposition {
	switch d.byte() {
	case 0:
		return nil
	case 1:
		return &imap.BodyStructureDisposition{Value: d.string(), Params: d.params()}
	default:
		d.fail()
		return nil
	}
}

func (d *metaDecoder) structure(depth int) imap.BodyStructure {
	if depth > maxMetaDepth {
		d.fail()
		return nil
	}
	switch d.byte() {
	case tagNil:
		return nil
	case tagSinglePart:
		bs := &imap.BodyStructureSinglePart{
			Type:        d.string(),
			Subtype:     d.string(),
			Params:      d.params(),
			ID:          d.string(),
			Description: d.string(),
			Encoding:    d.string(),
		}
		size := d.uvarint()
		if size > math.MaxUint32 {
			d.fail()
		}
		bs.Size = uint32(size)
		flags := d.byte()
		if flags&^(hasMessage|hasText|hasExtended) != 0 {
			d.fail()
		}
		if flags&hasMessage != 0 {
			m := &imap.BodyStructureMessageRFC822{Envelope: d.envelope()}
			m.BodyStructure = d.structure(depth + 1)
			m.NumLines = d.varint()
			bs.MessageRFC822 = m
		}
		if flags&hasText != 0 {
			bs.Text = &imap.BodyStructureText{NumLines: d.varint()}
		}
		if flags&hasExtended != 0 {
			bs.Extended = &imap.BodyStructureSinglePartExt{
				Disposition: d.disposition(),
				Language:    d.strings(),
				Location:    d.string(),
			}
		}
		if d.err != nil {
			return nil
		}
		return bs
	case tagMultiPart:
		bs := &imap.BodyStructureMultiPart{}
		n, isNil := d.count(1)
		if !isNil {
			bs.Children = make([]imap.BodyStructure, n)
			for i := range bs.Children {
				bs.Children[i] = d.structure(depth + 1)
			}
		}
		bs.Subtype = d.string()
		switch d.byte() {
		case 0:
		case 1:
			bs.Extended = &imap.BodyStructureMultiPartExt{
				Params:      d.params(),
				Disposition: d.disposition(),
				Language:    d.strings(),
				Location:    d.string(),
			}
		default:
			d.fail()
		}
		if d.err != nil {
			return nil
		}
		return bs
	default:
		d.fail()
		return nil
	}
}
