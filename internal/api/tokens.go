package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"govmail/internal/store"
	"govmail/internal/workdays"
)

// TokenPrefix starts every API token, so that a leaked one is recognisable by
// secret scanners and in logs.
const TokenPrefix = "gm_"

// tokenBytes is the randomness of a token: 256 bits cannot be guessed, so the
// hash needs no salt and no slow function (unlike a password).
const tokenBytes = 32

// newTokenText makes a fresh token: "gm_" and 43 base64url characters.
func newTokenText() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails since Go 1.24
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what is stored of a token: the hex SHA-256 of its text.
func HashToken(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// tokenPrefixOf is the recognisable, useless part of a token for lists and logs.
func tokenPrefixOf(text string) string {
	if len(text) > len(TokenPrefix)+6 {
		return text[:len(TokenPrefix)+6]
	}
	return TokenPrefix
}

// ParseScopes reads scopes given as repeated values and/or comma or space
// separated lists, refusing unknown ones; the result is sorted and unique.
func ParseScopes(values []string) ([]string, error) {
	known := Scopes()
	var out []string
	for _, v := range values {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if !slices.Contains(known, s) {
				return nil, fmt.Errorf("phạm vi không hợp lệ / unknown scope %q (có / known: %s)", s, strings.Join(known, ", "))
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cần ít nhất một phạm vi / at least one scope is needed (%s)", strings.Join(known, ", "))
	}
	slices.Sort(out)
	return out, nil
}

// ParseExpiry reads when a token ends: "never", a number of days ("90d"), a Go
// duration ("720h") or a local date (YYYY-MM-DD, the token ends at the end of
// that day). The zero time means never.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "never" || s == "0":
		return time.Time{}, nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("thời hạn không hợp lệ / bad expiry %q", s)
		}
		return now.AddDate(0, 0, n), nil
	}
	if d, err := workdays.Parse(s); err == nil {
		t := d.AddDays(1).In(workdays.Location())
		if !t.After(now) {
			return time.Time{}, fmt.Errorf("ngày hết hạn đã qua / expiry %s is in the past", s)
		}
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("thời hạn không hợp lệ / bad expiry %q (never, 90d, 720h, YYYY-MM-DD)", s)
	}
	return now.Add(d), nil
}

// IssueToken makes a token for acc and stores its hash; the returned text is
// the only copy of the token there will ever be.
func IssueToken(ctx context.Context, ts store.TokenStore, now time.Time, acc *store.Account, name string, scopes []string, expires time.Time, createdBy string) (string, *store.APIToken, error) {
	if acc.State != store.StateActive {
		return "", nil, fmt.Errorf("tài khoản %s không hoạt động / account %s is %s", acc.Address, acc.Address, acc.State)
	}
	scopes, err := ParseScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	text := newTokenText()
	t := &store.APIToken{AccountID: acc.ID, Name: strings.TrimSpace(name), Hash: HashToken(text), Prefix: tokenPrefixOf(text),
		Scopes: scopes, CreatedBy: createdBy, CreatedAt: now, ExpiresAt: expires}
	if err := ts.CreateAPIToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("issue token: %w", err)
	}
	return text, t, nil
}
