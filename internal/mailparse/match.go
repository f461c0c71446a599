package mailparse

import (
	"strings"

	"govmail/internal/textfold"
)

// Query is a search string folded once, for matching many messages (SEARCH over a
// whole mailbox folds the query once, not once per message).
type Query []string

// NewQuery folds q with textfold.Search and splits it into words.
func NewQuery(q string) Query { return strings.Fields(textfold.Search(q)) }

// Match reports whether every word of the query occurs in folded, which must have
// been folded with textfold.Search (Parsed.SearchText is). Words match as substrings
// and in any order: "hop" finds "Cuộc họp", "bao cao" finds "Báo cáo". A query
// without words matches everything, as IMAP's SEARCH BODY "" does.
func (q Query) Match(folded string) bool {
	for _, w := range q {
		if !strings.Contains(folded, w) {
			return false
		}
	}
	return true
}

// MatchText folds query and matches it against folded; see Query.Match.
func MatchText(folded, query string) bool { return NewQuery(query).Match(folded) }
