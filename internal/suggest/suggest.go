// Package suggest finds the names nearest to a mistyped one, for the
// "did you mean" of unknown commands and process names.
package suggest

import "strings"

// Closest returns the candidates nearest to word: edit distance at most a
// quarter of its length (at least 1, at most 2), or word as a prefix of at
// least 3 characters.
func Closest(word string, candidates []string) []string {
	limit := min(max(len(word)/4, 1), 2)
	best := limit + 1
	var out []string
	for _, c := range candidates {
		d := Distance(strings.ToLower(word), strings.ToLower(c))
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(word)) && len(word) >= 3 && d > limit {
			d = limit // a prefix counts as close
		}
		switch {
		case d < best:
			best, out = d, []string{c}
		case d == best:
			out = append(out, c)
		}
	}
	if best > limit {
		return nil
	}
	return out
}

// Distance is the Levenshtein distance with adjacent transpositions
// counted as one edit (opnim/openim is 1).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
