package mailparse

import (
	"reflect"
	"testing"
	"time"
)

// FuzzParse: no input makes Parse panic, run away, or break an invariant that the
// store and the IMAP writer rely on (see checkInvariants, which also compares with
// go-imap's own helpers wherever Parse does not cut or repair).
func FuzzParse(f *testing.F) {
	for _, c := range corpus(f) {
		f.Add([]byte(c.raw))
	}
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		p := Parse(raw)
		// Not a benchmark: a guard that catches work growing faster than the input.
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Parse of %d bytes took %v", len(raw), d)
		}
		checkInvariants(t, raw, p)
		for _, v := range HeaderValue(raw, "Subject") {
			checkDisplay(t, "HeaderValue", v)
		}
		MatchText(p.SearchText, string(raw))
	})
}

// FuzzMetaRoundTrip: what EncodeMeta writes, DecodeMeta gives back exactly; and
// bytes EncodeMeta never wrote decode to an error or to a value that itself
// round-trips, never to a panic or a huge allocation.
func FuzzMetaRoundTrip(f *testing.F) {
	for _, c := range corpus(f) {
		f.Add([]byte(c.raw))
		if b, err := EncodeMeta(Parse([]byte(c.raw))); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := Parse(data)
		b, err := EncodeMeta(p)
		if err != nil {
			t.Fatal(err)
		}
		env, bs, err := DecodeMeta(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env, p.Envelope) || !reflect.DeepEqual(bs, p.BodyStructure) {
			t.Fatalf("round trip differs:\n got %#v %s\nwant %#v %s", env, dump(bs), p.Envelope, dump(p.BodyStructure))
		}

		env, bs, err = DecodeMeta(data)
		envOnly, errEnv := DecodeEnvelope(data)
		if err != nil {
			return
		}
		if errEnv != nil || !reflect.DeepEqual(envOnly, env) {
			t.Fatalf("DecodeEnvelope disagrees with DecodeMeta: %v", errEnv)
		}
		b2, err := AppendMeta(nil, env, bs)
		if err != nil {
			t.Fatalf("re-encoding a decoded value: %v", err)
		}
		env2, bs2, err := DecodeMeta(b2)
		if err != nil || !reflect.DeepEqual(env2, env) || !reflect.DeepEqual(bs2, bs) {
			t.Fatalf("decoded value does not round-trip: %v", err)
		}
	})
}
