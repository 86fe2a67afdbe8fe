package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// percentile returns the p-th percentile (0-100) of sorted by nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// latencyStats sums up a latency sample.
type latencyStats struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

func summarize(sample []time.Duration) latencyStats {
	s := slices.Clone(sample)
	slices.Sort(s)
	return latencyStats{N: len(s), P50: percentile(s, 50), P90: percentile(s, 90), P99: percentile(s, 99), Max: percentile(s, 100)}
}

// median returns the median of xs (the lower middle for an even count).
func median[T cmp.Ordered](xs []T) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// medianOf maps runs through f and takes the median.
func medianOf[T cmp.Ordered](runs []perfResult, f func(perfResult) T) T {
	xs := make([]T, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return median(xs)
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// mb formats bytes in MB (10^6).
func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// table prints rows with aligned columns; the first row is the header.
func table(w io.Writer, rows [][]string) {
	widths := make([]int, 0)
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	for n, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len(c)))
			}
		}
		fmt.Fprintln(w, b.String())
		if n == 0 {
			total := 0
			for _, wd := range widths {
				total += wd + 2
			}
			fmt.Fprintln(w, strings.Repeat("-", total-2))
		}
	}
}

// budget is one line of DESIGN.md's budget table checked against a number.
type budget struct {
	What   string `json:"what"`
	Value  string `json:"value"`
	Budget string `json:"budget"`
	OK     bool   `json:"ok"`
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}
