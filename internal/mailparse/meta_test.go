package mailparse

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// The stored meta must give back exactly what go-imap's helpers computed, so FETCH
// from the database answers byte for byte what FETCH from the message would.
func TestMetaRoundTripLibrary(t *testing.T) {
	for _, c := range corpus(t) {
		t.Run(c.name, func(t *testing.T) {
			env, bs := libraryView([]byte(c.raw))
			b, err := AppendMeta(nil, env, bs)
			if err != nil {
				t.Fatal(err)
			}
			gotEnv, gotBS, err := DecodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotEnv, env) {
				t.Errorf("envelope:\n got %#v\nwant %#v", gotEnv, env)
			}
			if !sameStructure(gotBS, bs) {
				t.Errorf("structure:\n got %s\nwant %s", dump(gotBS), dump(bs))
			}
		})
	}
}

// Dates keep their instant, their written offset and, in the same process, their
// *time.Location as time.Parse chose it (Local when the offset is the local one).
// Run the package also with TZ=Asia/Ho_Chi_Minh to take the Local path with +0700.
func TestMetaDates(t *testing.T) {
	dates := []string{
		"Mon, 24 Nov 2026 08:30:00 +0700",
		"Mon, 24 Nov 2026 08:30:00 +0000",
		"Mon, 24 Nov 2026 08:30:00 -0000",
		"Mon, 24 Nov 2026 08:30:00 -0930",
		"Mon, 24 Nov 2026 08:30:00 +0700 (ICT)",
		"24 Nov 2026 08:30 +0700",
		"Mon, 24 Nov 26 08:30:00 +0700",
		"Mon, 24 Nov 2026 08:30:00 GMT",
		"Mon, 24 Nov 2026 08:30:00 UT",
		"Mon, 24 Nov 2026 08:30:00 UTC",
		"Mon, 24 Nov 2026 08:30:00 EST",
		"Mon, 24 Nov 2026 08:30:00 PDT",
		"Mon, 24 Nov 2026 08:30:00 ICT",
		"Fri, 31 Dec 9999 23:59:59 +1400",
		"Mon, 1 Jan 0001 00:00:00 +0000",
		"Mon, 24 Nov 2026 08:30:00 +9999",
		"not a date",
		"",
	}
	for _, d := range dates {
		raw := []byte("Date: " + d + "\r\nSubject: x\r\n\r\nbody\r\n")
		p := Parse(raw)
		checkInvariants(t, raw, p)
		b, err := EncodeMeta(p)
		if err != nil {
			t.Fatal(err)
		}
		env, err := DecodeEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env.Date, p.Envelope.Date) {
			t.Errorf("%q: got %v (%p), want %v (%p)", d, env.Date, env.Date.Location(), p.Envelope.Date, p.Envelope.Date.Location())
		}
	}
}

// A row written on a node in one zone and read on a node in another keeps the
// instant and the offset the sender wrote, even though the Location differs.
func TestMetaDateOtherZone(t *testing.T) {
	other := time.FixedZone("X", 3*3600+1800)
	when := time.Date(2026, 11, 24, 8, 30, 0, 0, other)
	env := &imap.Envelope{Date: when}
	b, err := AppendMeta(nil, env, emptyPart())
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	name, off := got.Date.Zone()
	if !got.Date.Equal(when) || off != 3*3600+1800 || name != "X" {
		t.Errorf("got %v", got.Date)
	}
}

func TestMetaNilAndEmpty(t *testing.T) {
	// nil and empty differ under reflect.DeepEqual and on the wire (NIL vs ()), so
	// the encoding keeps them apart.
	cases := []struct {
		env *imap.Envelope
		bs  imap.BodyStructure
	}{
		{nil, nil},
		{&imap.Envelope{}, &imap.BodyStructureSinglePart{}},
		{&imap.Envelope{From: []imap.Address{}, InReplyTo: []string{}}, &imap.BodyStructureSinglePart{Params: map[string]string{}, Extended: &imap.BodyStructureSinglePartExt{Language: []string{}, Disposition: &imap.BodyStructureDisposition{}}}},
		{&imap.Envelope{Subject: "\xff\xfe invalid UTF-8 kept"}, &imap.BodyStructureMultiPart{Children: []imap.BodyStructure{nil, &imap.BodyStructureMultiPart{}}, Extended: &imap.BodyStructureMultiPartExt{Params: map[string]string{"": ""}}}},
		{nil, &imap.BodyStructureSinglePart{Size: 1<<32 - 1, MessageRFC822: &imap.BodyStructureMessageRFC822{NumLines: -5}, Text: &imap.BodyStructureText{NumLines: 1 << 40}}},
	}
	for i, c := range cases {
		b, err := AppendMeta(nil, c.env, c.bs)
		if err != nil {
			t.Fatal(err)
		}
		env, bs, err := DecodeMeta(b)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(env, c.env) || !reflect.DeepEqual(bs, c.bs) {
			t.Errorf("%d: got %#v %s, want %#v %s", i, env, dump(bs), c.env, dump(c.bs))
		}
	}
}

func TestMetaLongEnvelope(t *testing.T) {
	// An envelope longer than the two bytes reserved for its length.
	env := &imap.Envelope{Subject: string(bytes.Repeat([]byte("họp "), 20000))}
	b, err := AppendMeta(nil, env, emptyPart())
	if err != nil {
		t.Fatal(err)
	}
	gotEnv, gotBS, err := DecodeMeta(b)
	if err != nil || !reflect.DeepEqual(gotEnv, env) || !reflect.DeepEqual(gotBS, imap.BodyStructure(emptyPart())) {
		t.Fatalf("err %v", err)
	}
}

func TestMetaCorrupt(t *testing.T) {
	raw := []byte(corpus(t)[7].raw) // nested message: every kind of node
	b, err := EncodeMeta(Parse(raw))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, _, err := DecodeMeta(b[:n]); !errors.Is(err, ErrCorruptMeta) {
			t.Fatalf("truncated to %d: err %v", n, err)
		}
	}
	if _, _, err := DecodeMeta(append(b[:len(b):len(b)], 0)); !errors.Is(err, ErrCorruptMeta) {
		t.Errorf("trailing byte: %v", err)
	}
	bad := bytes.Clone(b)
	bad[0] = 99
	if _, _, err := DecodeMeta(bad); !errors.Is(err, ErrCorruptMeta) {
		t.Errorf("version: %v", err)
	}
	// Every single-byte change either decodes to something or fails cleanly.
	for i := range b {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			c := bytes.Clone(b)
			c[i] = v
			DecodeMeta(c)
			DecodeEnvelope(c)
		}
	}
}

func TestMetaTooDeep(t *testing.T) {
	var bs imap.BodyStructure = emptyPart()
	for range maxMetaDepth + 2 {
		bs = &imap.BodyStructureMultiPart{Children: []imap.BodyStructure{bs}}
	}
	if _, err := AppendMeta(nil, nil, bs); err == nil {
		t.Error("no error for a structure deeper than maxMetaDepth")
	}
}
