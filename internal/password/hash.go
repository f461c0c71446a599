package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Errors of Hash and Verify. They concern stored data, not the user's input, so they
// are plain sentinels for logs rather than bilingual messages.
var (
	ErrMalformedHash   = errors.New("password: malformed hash")
	ErrUnsupportedHash = errors.New("password: unsupported hash algorithm")
	ErrHashParams      = errors.New("password: hash parameters out of range")
)

// Params are the argon2id parameters. They are written into every encoded hash and read
// back from it on Verify, so they can be raised later without invalidating old hashes
// (NeedsRehash tells when to re-hash on the next successful login).
type Params struct {
	Memory     uint32 // KiB
	Time       uint32 // passes
	Threads    uint8
	SaltLength uint32 // bytes
	KeyLength  uint32 // bytes
}

// DefaultParams are OWASP's argon2id minimum (m=19 MiB, t=2, p=1): tens of
// milliseconds per login on a shared two-core machine, where 64 MiB cost ~120 ms and
// would make every IMAP/SMTP login a noticeable load.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds accepted on Verify. An encoded hash comes from our own store or an import;
// these limits keep a damaged or hostile one from costing gigabytes or minutes.
const (
	maxMemory     = 1 << 20 // KiB = 1 GiB
	maxTime       = 64
	minSalt       = 8
	maxSalt       = 64
	minKey        = 16
	maxKey        = 128
	maxBcryptCost = 16 // 2^16 rounds ≈ seconds; legacy systems used 10–12
)

func (p Params) check() error {
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || p.SaltLength < minSalt || p.SaltLength > maxSalt ||
		p.KeyLength < minKey || p.KeyLength > maxKey {
		return fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrHashParams,
			p.Memory, p.Time, p.Threads, p.SaltLength, p.KeyLength)
	}
	return nil
}

// Hash hashes pw with argon2id and DefaultParams.
func Hash(pw string) (string, error) { return DefaultParams().Hash(pw) }

// Hash hashes pw with argon2id and p, in the PHC string format
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash> (unpadded standard
// base64), the format other argon2 tools read.
func (p Params) Hash(pw string) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches encoded. It accepts our argon2id hashes and, for
// accounts imported from the old system, bcrypt hashes ($2a$, $2b$, $2y$). A mismatch
// is (false, nil); an error means the stored hash itself is unusable.
func Verify(encoded, pw string) (bool, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decodeArgon2id(encoded)
		if err != nil {
			return false, err
		}
		got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
		return subtle.ConstantTimeCompare(got, key) == 1, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
		if cost > maxBcryptCost {
			return false, fmt.Errorf("%w: bcrypt cost %d", ErrHashParams, cost)
		}
		// CompareHashAndPassword compares in constant time.
		err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
		}
	default:
		return false, ErrUnsupportedHash
	}
}

// NeedsRehash reports whether encoded should be replaced by a hash with p after the
// next successful login: it is bcrypt, or argon2id with other parameters, or unreadable.
func NeedsRehash(encoded string, p Params) bool {
	if !strings.HasPrefix(encoded, "$argon2id$") {
		return true
	}
	got, _, _, err := decodeArgon2id(encoded)
	return err != nil || got != p
}

func decodeArgon2id(encoded string) (Params, []byte, []byte, error) {
	var p Params
	f := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrUnsupportedHash, f[2])
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	// PHC fixes the order m, t, p.
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return p, nil, nil, ErrMalformedHash
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return p, nil, nil, fmt.Errorf("%w: p=%d", ErrHashParams, vals[2])
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(f[4])
	if err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(f[5])
	if err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))}
	if err := p.check(); err != nil {
		return p, nil, nil, err
	}
	return p, salt, key, nil
}
