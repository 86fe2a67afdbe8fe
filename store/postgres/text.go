package postgres

import "strings"

// noNUL makes string arguments storable: PostgreSQL refuses the NUL
// character in text (SQLSTATE 22021) and its JSON escape in jsonb (22P05),
// and one such value would fail its whole batch: every alert change of an
// evaluation cycle, or every outcome of a finish. A NUL (from a pushed
// label, or a receiver's error body) becomes U+FFFD. It changes args in
// place and returns it.
func noNUL(args []any) []any {
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			continue
		}
		if strings.IndexByte(s, 0) >= 0 {
			s = strings.ReplaceAll(s, "\x00", "\uFFFD")
		}
		if strings.Contains(s, `\u0000`) {
			s = strings.ReplaceAll(s, `\u0000`, `\ufffd`)
		}
		args[i] = s
	}
	return args
}
