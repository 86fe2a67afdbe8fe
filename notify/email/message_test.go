package email

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	gomail "github.com/wneessen/go-mail"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

func TestParseThread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		// Nothing stored yet.
		{name: "empty", in: "", want: nil},
		// The first mail's id.
		{name: "one", in: "<a.1.ff@example.com>", want: []string{"<a.1.ff@example.com>"}},
		// A chain, with any whitespace.
		{name: "chain", in: " <a@x>\t<b@x>\r\n <c@x> ", want: []string{"<a@x>", "<b@x>", "<c@x>"}},
		// Brackets are added when missing.
		{name: "bare", in: "a@x", want: []string{"<a@x>"}},
		// Garbage is dropped, never copied into a header.
		{name: "garbage", in: "<a@x>, <no-at> <a@b@c> <x@y>\nBcc:<evil@x>", want: []string{"<x@y>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, parseThread(tt.in))
		})
	}
}

func TestAppendThread(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 25 {
		ids = appendThread(ids, "<"+strings.Repeat("x", i+1)+"@d>")
	}
	require.Len(t, ids, maxReferences)
	require.Equal(t, "<x@d>", ids[0], "the first (firing) mail stays")
	require.Equal(t, "<"+strings.Repeat("x", 25)+"@d>", ids[len(ids)-1])
}

func TestCleanHeaderText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		limit          int
	}{
		// Plain text is kept.
		{name: "plain", in: "High CPU", want: "High CPU", limit: 100},
		// Control characters and runs of spaces collapse.
		{name: "controls", in: " a\r\n\tb\x00\u2028c  ", want: "a b c", limit: 100},
		// Long text is cut with an ellipsis.
		{name: "cut", in: "abcdefgh", want: "abcd…", limit: 4},
		// Invalid UTF-8 is replaced.
		{name: "invalid", in: "a\xffb", want: "a\uFFFDb", limit: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, cleanHeaderText(tt.in, tt.limit))
		})
	}
}

// subjectRoundTrip writes a mail with subject s through go-mail and reads
// the decoded Subject back with the standard library.
func subjectRoundTrip(tb testing.TB, s string) (decoded string, rawHeader string) {
	tb.Helper()
	m := gomail.NewMsg()
	require.NoError(tb, m.From("a@example.com"))
	require.NoError(tb, m.To("b@example.com"))
	setSubject(m, s)
	m.SetBodyString(gomail.TypeTextPlain, "x")
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(tb, err)
	raw := buf.String()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	require.NoError(tb, err)
	decoded, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(tb, err)
	return decoded, raw[:strings.Index(raw, "\r\n\r\n")]
}

func FuzzSubject(f *testing.F) {
	for _, s := range []string{"High error rate", "Überlast 🚨", "a\r\nBcc: x@y", strings.Repeat("é", 300), "=?UTF-8?Q?x?=", ""} {
		f.Add(s, "summary")
	}
	f.Fuzz(func(t *testing.T, name, summary string) {
		a := alert.Alert{RuleName: name, Summary: summary, Severity: alert.High}
		s := Subject(&a)
		require.True(t, utf8.ValidString(s))
		require.True(t, strings.HasPrefix(s, "[HIGH] Alert: "))
		require.NotContains(t, s, "\r")
		require.NotContains(t, s, "\n")
		decoded, header := subjectRoundTrip(t, s)
		for line := range strings.SplitSeq(header, "\r\n") {
			require.LessOrEqual(t, len(line), 998)
		}
		require.Equal(t, s, decoded)
	})
}

func FuzzParseThread(f *testing.F) {
	for _, s := range []string{"", "<a@b>", "<a@b> <c@d>", "x\r\n<y@z>", "<<a@b>>", "<a@b>,<c@d>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := parseThread(s)
		for _, id := range ids {
			require.True(t, validMsgID(id), id)
			require.NotContains(t, id, " ")
			require.NotContains(t, id, "\n")
			require.NotContains(t, id, "\r")
		}
		// What we store parses back to itself.
		joined := strings.Join(ids, " ")
		require.Equal(t, ids, parseThread(joined))
	})
}

func TestBuildMessage_ThreadIgnoresGarbage(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, Config{SMTPHost: "h", From: "a@example.com", To: []string{"b@example.com"}})
	n := firing()
	n.Event = notify.EventResolved
	n.Thread = "garbage\r\nBcc: evil"
	b, err := ch.buildMessage(n, fixedNow)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = b.msg.WriteTo(&buf)
	require.NoError(t, err)
	m, err := mail.ReadMessage(&buf)
	require.NoError(t, err)
	require.Empty(t, m.Header.Get("In-Reply-To"))
	require.Empty(t, m.Header.Get("Bcc"))
	require.Equal(t, "Re: [CRITICAL] Alert: High error rate", m.Header.Get("Subject"))
	require.Equal(t, b.id, b.thread, "a new thread starts")
}

func BenchmarkBuildMessage(b *testing.B) {
	ch, err := New("bench", Config{SMTPHost: "h", From: "a@example.com", To: []string{"b@example.com"}})
	require.NoError(b, err)
	n := firing()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		m, err := ch.buildMessage(n, fixedNow)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := m.msg.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeWords(t *testing.T) {
	t.Parallel()
	in := "=?UTF-8?Q?fake?= " + strings.Repeat("Grüße 🚨 ", 20)
	out := encodeWords(in)
	for line := range strings.SplitSeq(out, "\r\n") {
		word := strings.TrimPrefix(line, " ")
		require.LessOrEqual(t, len(word), 75, "RFC 2047 word limit")
		require.True(t, strings.HasPrefix(word, "=?UTF-8?B?") && strings.HasSuffix(word, "?="), word)
	}
	decoded, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(out, "\r\n", ""))
	require.NoError(t, err)
	require.Equal(t, in, decoded)
}
