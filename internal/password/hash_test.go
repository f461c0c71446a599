package password

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Security-level controls: passwords are stored only as salted argon2id hashes, in PHC
// format, with the default parameters the brief fixes (OWASP m=19456 KiB, t=2, p=1).
func TestHashRoundTrip(t *testing.T) {
	h, err := Hash("Abcdef1!")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Fatalf("not PHC with default params: %s", h)
	}
	for pw, want := range map[string]bool{"Abcdef1!": true, "abcdef1!": false, "Abcdef1": false, "": false, "Abcdef1!\x00": false} {
		ok, err := Verify(h, pw)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := Hash("Abcdef1!")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if NeedsRehash(h, DefaultParams()) {
		t.Error("fresh hash needs rehash")
	}
}

// Parameters are read from the encoded string, so they can change later.
func TestVerify_ParamsFromString(t *testing.T) {
	old := Params{Memory: 256, Time: 3, Threads: 2, SaltLength: 8, KeyLength: 16}
	h, err := old.Hash("Sonla#2026x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=256,t=3,p=2$") {
		t.Fatalf("encoded %s", h)
	}
	if ok, err := Verify(h, "Sonla#2026x"); !ok || err != nil {
		t.Errorf("Verify with other params: %v, %v", ok, err)
	}
	if !NeedsRehash(h, DefaultParams()) || NeedsRehash(h, old) {
		t.Error("NeedsRehash does not follow the parameters")
	}
}

// A known answer from the argon2 reference test vectors (as used by x/crypto's own
// tests): argon2id, t=2, m=64 KiB, p=2, password "password", salt "somesalt".
func TestVerify_KnownAnswer(t *testing.T) {
	key, _ := hex.DecodeString("350ac37222f436ccb5c0972f1ebd3bf6b958bf2071841362")
	b64 := base64.RawStdEncoding
	enc := "$argon2id$v=19$m=64,t=2,p=2$" + b64.EncodeToString([]byte("somesalt")) + "$" + b64.EncodeToString(key)
	if ok, err := Verify(enc, "password"); !ok || err != nil {
		t.Fatalf("Verify(%s) = %v, %v", enc, ok, err)
	}
	if ok, _ := Verify(enc, "passwore"); ok {
		t.Fatal("wrong password verified")
	}
}

// Imported legacy accounts keep their bcrypt hashes: $2a$, $2b$ and $2y$ verify.
func TestVerify_Bcrypt(t *testing.T) {
	// OpenBSD/John the Ripper test vector.
	const vec = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + strings.TrimPrefix(vec, "$2a$")
		if ok, err := Verify(enc, "U*U"); !ok || err != nil {
			t.Errorf("%s: Verify = %v, %v", prefix, ok, err)
		}
		if ok, err := Verify(enc, "U*V"); ok || err != nil {
			t.Errorf("%s wrong password: %v, %v", prefix, ok, err)
		}
		if !NeedsRehash(enc, DefaultParams()) {
			t.Errorf("%s: bcrypt must be re-hashed to argon2id", prefix)
		}
	}
	h, err := bcrypt.GenerateFromPassword([]byte("Matkhau#Cu9"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Verify(string(h), "Matkhau#Cu9"); !ok || err != nil {
		t.Errorf("generated bcrypt: %v, %v", ok, err)
	}
	// $2$ and $2x$ are not accepted; an absurd cost is refused before any work.
	for _, enc := range []string{"$2$05$" + vec[7:], "$2x$" + vec[4:]} {
		if _, err := Verify(enc, "U*U"); !errors.Is(err, ErrUnsupportedHash) {
			t.Errorf("Verify(%s): %v", enc, err)
		}
	}
	if _, err := Verify("$2a$31$"+vec[7:], "U*U"); !errors.Is(err, ErrHashParams) {
		t.Errorf("cost 31: %v", err)
	}
	if _, err := Verify("$2a$05$short", "U*U"); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("short bcrypt: %v", err)
	}
}

// Damaged or hostile hashes are errors, never a panic and never a match.
func TestVerify_Malformed(t *testing.T) {
	good, _ := Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}.Hash("x")
	f := strings.Split(good, "$")
	salt, key := f[4], f[5]
	cases := []struct {
		enc  string
		want error
	}{
		{"", ErrUnsupportedHash},
		{"plaintext", ErrUnsupportedHash},
		{"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, ErrUnsupportedHash},
		{"$argon2id$v=19$m=64,t=1$" + salt + "$" + key, ErrMalformedHash},
		{"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt, ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$", ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1,p=1$!!$" + key, ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, ErrMalformedHash},
		{"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, ErrHashParams},
		{"$argon2id$v=19$m=64,t=1,p=1$$" + key, ErrHashParams},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA", ErrHashParams},
	}
	for _, c := range cases {
		ok, err := Verify(c.enc, "x")
		if ok || !errors.Is(err, c.want) {
			t.Errorf("Verify(%q) = %v, %v; want %v", c.enc, ok, err, c.want)
		}
		if !NeedsRehash(c.enc, DefaultParams()) {
			t.Errorf("NeedsRehash(%q) = false", c.enc)
		}
	}
	if ok, err := Verify(good, "x"); !ok || err != nil {
		t.Fatalf("control: %v %v", ok, err)
	}
	if _, err := (Params{}).Hash("x"); !errors.Is(err, ErrHashParams) {
		t.Errorf("zero params: %v", err)
	}
}
