package main

import "fmt"

// arrivals checks a sequence of record numbers against the n sent, 0 to
// n-1: each should arrive once, none after a later one.
type arrivals struct {
	seen      []int
	max       int // the highest number arrived so far
	displaced int // arrived after a higher number
	worst     int // the largest such distance
	strange   int // numbers never sent
}

func newArrivals(n int) *arrivals { return &arrivals{seen: make([]int, n), max: -1} }

// add takes the next record to arrive.
func (a *arrivals) add(i int) {
	if i < 0 || i >= len(a.seen) {
		a.strange++
		return
	}
	a.seen[i]++
	if a.seen[i] > 1 {
		return // a duplicate: counted as such, not as displaced
	}
	if i < a.max {
		a.displaced++
		a.worst = max(a.worst, a.max-i)
	}
	a.max = max(a.max, i)
}

// missing, duplicates and the first record missing (-1 if none).
func (a *arrivals) counts() (missing, dups, gap int) {
	gap = -1
	for i, c := range a.seen {
		if c == 0 {
			missing++
			if gap < 0 {
				gap = i
			}
		}
		dups += max(c-1, 0)
	}
	return missing, dups, gap
}

// String is the summary a failing order test prints.
func (a *arrivals) String() string {
	missing, dups, gap := a.counts()
	return fmt.Sprintf("%d of %d missing (first %d), %d duplicated, %d displaced (by up to %d), %d never sent",
		missing, len(a.seen), gap, dups, a.displaced, a.worst, a.strange)
}

// ok says every record arrived, in order; duplicates are allowed only if
// dupsOK.
func (a *arrivals) ok(dupsOK bool) bool {
	missing, dups, _ := a.counts()
	return missing == 0 && a.displaced == 0 && a.strange == 0 && (dupsOK || dups == 0)
}
