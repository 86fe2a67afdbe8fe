// Command email runs klaxon's email channel against an in-process SMTP
// receiver (github.com/emersion/go-smtp) and prints every mail it receives:
// a firing alert, its acknowledgement and its resolution, threaded with
// In-Reply-To and References.
//
//	go run ./examples/email
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/email"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	// A local relay on a loopback port: plaintext, no AUTH (tls: none is
	// only for such relays; AUTH over it is refused unless the host is
	// loopback).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &printer{}, nil }))
	srv.Domain = "relay.localhost"
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ch, err := email.New("ops-mail", email.Config{
		SMTPHost: "127.0.0.1",
		SMTPPort: l.Addr().(*net.TCPAddr).Port,
		TLS:      email.TLSNone,
		From:     "Klaxon <alerts@example.com>",
		To:       []string{"oncall@example.com"},
		Timeout:  5 * time.Second,
	})
	if err != nil {
		return err
	}

	n := notify.SampleNotification("ops-mail", time.Now())
	n.Event = notify.EventActive
	n.ExternalURL = "https://klaxon.example.com/alerts/" + n.Alerts[0].ID
	steps := []struct {
		event notify.Event
		state alert.State
	}{
		{notify.EventActive, alert.StateActive},
		{notify.EventAcknowledged, alert.StateAcknowledged},
		{notify.EventResolved, alert.StateResolved},
	}
	thread := ""
	for i, step := range steps {
		a := n.Alerts[0].Alert
		n.Alerts[0].PreviousState = a.State
		a.State, a.Sequence = step.state, int64(i+1)
		if step.event == notify.EventAcknowledged {
			a.AcknowledgedBy, a.AckComment = "alice", "on it"
		}
		n.Event, n.Thread = step.event, thread
		rc, err := ch.Send(ctx, n)
		if err != nil {
			return fmt.Errorf("%s: %s", step.event, notify.Describe(err))
		}
		fmt.Printf("receipt: %d %q thread=%s\n\n", rc.StatusCode, rc.Detail, rc.Thread)
		thread = rc.Thread
	}
	return nil
}

// printer is an SMTP session that prints each mail it receives.
type printer struct {
	from string
	to   []string
}

func (p *printer) Mail(from string, _ *smtp.MailOptions) error { p.from = from; return nil }
func (p *printer) Rcpt(to string, _ *smtp.RcptOptions) error   { p.to = append(p.to, to); return nil }
func (p *printer) Reset()                                      { p.from, p.to = "", nil }
func (p *printer) Logout() error                               { return nil }

func (p *printer) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	fmt.Printf("=== mail from %s to %s\n", p.from, strings.Join(p.to, ", "))
	fmt.Printf("Subject:     %s\n", subject)
	for _, h := range []string{"Date", "Message-Id", "In-Reply-To", "References"} {
		if v := m.Header.Get(h); v != "" {
			fmt.Printf("%-12s %s\n", h+":", v)
		}
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		ct := part.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "text/plain") {
			fmt.Printf("--- %s\n%s", ct, strings.ReplaceAll(string(body), "\r\n", "\n"))
		} else {
			fmt.Printf("--- %s (%d bytes)\n", ct, len(body))
		}
	}
}
