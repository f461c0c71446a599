package password

import (
	"crypto/rand"
)

// GeneratedLength is the length of a one-time password: about 83 bits from a
// 62-character alphabet, short enough to read out over the phone.
const GeneratedLength = 14

// The alphabet of one-time passwords leaves out characters read or typed wrongly when
// a password is passed on by phone or on paper: I l 1 i, O o 0. Specials are only the
// seven of Điều 6.2, which every policy counts.
const genAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ" + "abcdefghjkmnpqrstuvwxyz" + "23456789" + RequiredSpecials

// Generate returns a random one-time password that passes DefaultPolicy (R6.1: the
// holder must change it at first login).
func Generate() string { return DefaultPolicy().Generate(CheckContext{}) }

// Generate returns a random one-time password that passes p.Check for ctx. History is
// not consulted: a fresh random password cannot meaningfully repeat an old one, and
// hashing it against each would cost a login's time for nothing.
func (p Policy) Generate(ctx CheckContext) string {
	ctx.PreviousHashes = nil
	n := max(GeneratedLength, p.effective().MinLength)
	buf := make([]byte, n)
	// Rejection sampling keeps the choice uniform: bytes ≥ 248 (4·62) are thrown away
	// instead of being folded onto the first characters. A password missing a class is
	// drawn again (about one in four), which keeps it uniform over valid passwords.
	const limit = 256 - 256%len(genAlphabet)
	var rnd [64]byte
	for {
		for i := 0; i < n; {
			rand.Read(rnd[:]) // never fails since Go 1.24 (crashes the program instead)
			for _, b := range rnd {
				if i == n {
					break
				}
				if int(b) < limit {
					buf[i] = genAlphabet[int(b)%len(genAlphabet)]
					i++
				}
			}
		}
		pw := string(buf)
		if p.Check(pw, ctx) == nil {
			return pw
		}
	}
}
