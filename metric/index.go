package metric

import (
	"github.com/klaxonhq/klaxon/alert"
)

// labelIndex maps label name -> value -> the family's series with that
// label, so a query with an equality matcher visits only candidate series.
// It is immutable once built.
type labelIndex struct {
	n      int // number of series indexed
	byPair map[string]map[string][]*series
}

// indexMin is the family size from which queries use the index: below it a
// scan is as fast.
const indexMin = 8

func buildIndex(list []*series) *labelIndex {
	idx := &labelIndex{n: len(list), byPair: map[string]map[string][]*series{}}
	for _, s := range list {
		for k, v := range s.labels {
			vals := idx.byPair[k]
			if vals == nil {
				vals = map[string][]*series{}
				idx.byPair[k] = vals
			}
			vals[v] = append(vals[v], s)
		}
	}
	return idx
}

// candidates returns the series of f that can match sel: those of the most
// selective equality matcher on a non-empty value, or all of them.
func (f *family) candidates(sel alert.Matchers) []*series {
	list := f.list()
	if len(list) < indexMin || len(sel) == 0 {
		return list
	}
	idx := f.index.Load()
	if idx == nil || idx.n != len(list) {
		// Rebuilt lazily after series were added; concurrent queries may
		// both build it, which is harmless.
		idx = buildIndex(list)
		f.index.Store(idx)
	}
	best := list
	for i := range sel {
		m := &sel[i]
		if m.Op != alert.MatchEqual || m.Value == "" {
			continue
		}
		if c := idx.byPair[m.Name][m.Value]; len(c) < len(best) {
			best = c
		}
	}
	return best
}
