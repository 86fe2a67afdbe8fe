// Package metric records klaxon's metrics and answers the window queries rule
// conditions make over them.
//
// A [Registry] holds series: a name plus labels, of one [Kind]. Programs get a
// handle once ([Registry.Counter], [Registry.Gauge], [Registry.Histogram],
// [Registry.Requests]) and record through it on their hot path: lock-free,
// allocation-free, a few atomic operations. Custom metrics arrive through
// [Registry.Push] (POST /api/v1/metrics) or from a [Provider] registered with
// [Registry.RegisterProvider]; [Registry.Collect] samples providers (and the
// Go [RuntimeCollector]) into gauges. The rule evaluator calls
// [Registry.Query].
//
// # Built-in metrics
//
// [Registry.RecordRequest] feeds request_count and errors (counters) and
// response_time (histogram, milliseconds). error_rate is derived at query time:
// errors / request_count over the window, 5 minutes when queried with Last, so
// `error_rate > 0.05` means "more than 5% of the requests of the last 5
// minutes failed". response_time queried with Last and no window is its
// average over the same 5 minutes. active_connections (gauge) and
// health_check_failures (counter) are ordinary handles. The runtime collector
// provides memory_usage (MB), cpu_usage (%), goroutines and disk_usage (%).
//
// # Buckets
//
// Every series keeps two rings of time buckets, indexed by unix time divided
// by the bucket width:
//
//   - fine: 48 buckets of 10 s (the last 8 minutes), the only ring a sample
//     is written to;
//   - coarse: 1-minute buckets covering Options.Retention (default 1 h, 62
//     buckets).
//
// A bucket holds a sample count, sum, min and max (counters: the integral
// increase, so Inc is one atomic add, and a float remainder), each updated
// with atomic operations. A slot whose interval is over is recycled by the
// first writer of a new interval, under the series mutex: once per 10 s per
// series, so recording contends on nothing else. Recycling folds the old fine
// bucket into its minute in the coarse ring, so every sample lives in exactly
// one bucket and a window query sums the buckets it covers in both rings:
// O(window / 10 s) for windows up to 8 minutes, O(fine slots + window /
// 1 min) beyond: a 5 minute window reads 31 fine buckets. A window w at now covers [now-w, now]: the buckets whose midpoint
// is in it, so its start is rounded to the nearest bucket boundary (10 s for
// the last 8 minutes, 1 minute for older data and percentiles) and samples
// in the bucket of now count.
//
// Histograms, pushed and collected gauges also keep one log-linear value
// distribution per minute (a ring as long as the coarse one). Each power of
// two from 2^-16 to 2^32 is cut into 32 equal bins; a percentile is reported
// as its bin's midpoint, within 1/64 = 1.6% of the true nearest-rank
// percentile of the samples. Magnitudes below 2^-16 count as 0, above 2^32 as
// the last bin. Percentiles therefore have 1-minute time resolution.
//
// # Memory
//
// A bucket is 48 bytes. A counter or gauge series costs about 5.5 KiB with the
// default 1 h retention (48 fine + 62 coarse buckets, plus the series header),
// and 2.8 KiB per extra hour of retention: a thousand series fit in 6 MiB.
// Distributions add 400 bytes per minute of retention (25 KiB per hour), plus
// 256 bytes per minute for each two-octave range of values actually seen,
// allocated on first use and reused afterwards: a latency histogram whose
// values span 1-64 ms costs about 5.5 + 25 + 48 = 80 KiB after an hour.
//
// # Clock
//
// Reading the system clock costs 30 ns to several hundred on virtual machines,
// more than the recording budget, so handles read the current second from an
// atomic refreshed every 100 ms by a timer (no goroutine between ticks);
// [Registry.Close] stops it. An injected Options.Now is called directly.
//
// # Accuracy and races
//
// Readers never lock; a query racing with writers may miss or double-count
// a sample being folded at that instant. A writer delayed by more than
// 8 minutes between reading the clock and recording could add its sample to a
// newer bucket. Neither changes what an alert condition sees in practice.
package metric
