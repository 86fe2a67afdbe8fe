package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// Sentinel errors.
var (
	// ErrNoAlerts is returned (permanent) for a notification without alerts.
	ErrNoAlerts = errors.New("notification has no alerts")
	// ErrTimeout is the cause of an attempt that ran out of its per-attempt
	// timeout (Config.Timeout). It matches context.DeadlineExceeded.
	ErrTimeout = fmt.Errorf("smtp attempt timed out: %w", context.DeadlineExceeded)
	// ErrSTARTTLSUnavailable is returned (permanent) when tls is "starttls"
	// and the server does not offer STARTTLS: klaxon never falls back to
	// cleartext.
	ErrSTARTTLSUnavailable = errors.New("server does not offer STARTTLS")
	// ErrAuthUnavailable is returned (permanent) when the server does not
	// offer the configured AUTH mechanism (or AUTH at all).
	ErrAuthUnavailable = errors.New("server does not offer the configured AUTH mechanism")
)

// SMTPError is a negative SMTP reply to one command.
type SMTPError struct {
	// Command is what was refused: "connect" (greeting, EHLO, STARTTLS or
	// AUTH), "MAIL FROM", "RCPT TO" or "DATA".
	Command string
	// Code is the basic reply code (421, 550).
	Code int
	// EnhancedCode is the RFC 3463 code ("5.1.1"), when the server sent one.
	EnhancedCode string
	// Message is the server's text without the codes.
	Message string
	err     error
}

// Error renders "RCPT TO: 550 5.1.1 no such user".
func (e *SMTPError) Error() string {
	var b strings.Builder
	b.WriteString(e.Command)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Code))
	if e.EnhancedCode != "" {
		b.WriteByte(' ')
		b.WriteString(e.EnhancedCode)
	}
	if e.Message != "" {
		b.WriteByte(' ')
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying protocol error.
func (e *SMTPError) Unwrap() error { return e.err }

// Temporary reports whether the reply is transient (4yz): the same
// command may succeed later. When the basic and enhanced codes disagree, the
// enhanced code's class wins only if the basic code is not 4xx or 5xx.
func (e *SMTPError) Temporary() bool {
	switch e.Code / 100 {
	case 4:
		return true
	case 5:
		return false
	}
	return strings.HasPrefix(e.EnhancedCode, "4.")
}

// Rejection is one recipient the server refused at RCPT TO.
type Rejection struct {
	// Address is the refused recipient.
	Address string
	// Err is the server's reply.
	Err *SMTPError
}

// RecipientsError reports the recipients the server refused, each with its
// reply. When every rejection is permanent (5xx) and some recipients were
// accepted, the mail was still delivered to those (Delivered lists them) and
// the error is permanent, so a retry never duplicates the mail. When any
// rejection is temporary (4xx), nothing was sent and the error is retryable.
type RecipientsError struct {
	Rejected  []Rejection
	Delivered []string
}

// Error lists every rejected address with its reply code.
func (e *RecipientsError) Error() string {
	var b strings.Builder
	b.WriteString("recipients rejected: ")
	for i, r := range e.Rejected {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Address)
		b.WriteString(" (")
		b.WriteString(strings.TrimPrefix(r.Err.Error(), r.Err.Command+": "))
		b.WriteByte(')')
	}
	if len(e.Delivered) > 0 {
		b.WriteString("; delivered to the other ")
		b.WriteString(strconv.Itoa(len(e.Delivered)))
		b.WriteString(" recipient(s)")
	}
	return b.String()
}

// Unwrap returns each rejection's SMTPError.
func (e *RecipientsError) Unwrap() []error {
	errs := make([]error, len(e.Rejected))
	for i, r := range e.Rejected {
		errs[i] = r.Err
	}
	return errs
}

// Temporary reports whether every rejection is transient.
func (e *RecipientsError) Temporary() bool {
	for _, r := range e.Rejected {
		if !r.Err.Temporary() {
			return false
		}
	}
	return true
}

// enhancedCodeRE finds an RFC 3463 code at the start of a reply text.
var enhancedCodeRE = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)`)

// smtpErr turns err from command into an *SMTPError when it carries an SMTP
// reply, else wraps it with the command name.
func smtpErr(command string, err error) error {
	if err == nil {
		return nil
	}
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return fmt.Errorf("%s: %w", command, err)
	}
	se := &SMTPError{Command: command, Code: tp.Code, Message: strings.TrimSpace(tp.Msg), err: err}
	if m := enhancedCodeRE.FindStringSubmatch(se.Message); m != nil {
		se.EnhancedCode = m[1] + "." + m[2] + "." + m[3]
		se.Message = strings.TrimSpace(se.Message[len(m[0]):])
	}
	return se
}

// classify marks err with klaxon's error classes (invariant 3): SMTP 5xx,
// refused recipients, certificate failures, a missing STARTTLS or AUTH
// mechanism are permanent; 4xx, connection errors and timeouts are retryable.
// A cancelled or timed-out attempt carries the context's cause.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		// The socket deadline is the context's, and may fire a moment
		// before the context's own timer: wait for it, so the error
		// carries the context's cause.
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		// Our deadline or the caller's cancel closed the connection: the
		// cause says which, the original error what it interrupted.
		return fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	var re *RecipientsError
	if errors.As(err, &re) {
		if re.Temporary() {
			return err
		}
		return notify.Permanent(err)
	}
	var se *SMTPError
	if errors.As(err, &se) {
		if se.Temporary() {
			return err
		}
		return notify.Permanent(err)
	}
	if permanentSetupError(err) {
		return notify.Permanent(err)
	}
	return err
}

// permanentSetupError reports errors that no retry can fix until the
// configuration or the server changes.
func permanentSetupError(err error) bool {
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return true
	case errors.Is(err, ErrSTARTTLSUnavailable), errors.Is(err, ErrAuthUnavailable):
		return true
	case errors.Is(err, smtp.ErrUnencrypted), errors.Is(err, smtp.ErrWrongHostname):
		return true
	case errors.Is(err, mail.ErrPlainAuthNotSupported), errors.Is(err, mail.ErrLoginAuthNotSupported),
		errors.Is(err, mail.ErrCramMD5AuthNotSupported):
		return true
	}
	return false
}

// setupErr maps go-mail's dial errors (greeting, EHLO, STARTTLS, AUTH) to
// SMTPError or the package's sentinels. go-mail reports a missing STARTTLS or
// AUTH extension with unexported fmt errors, so their text is matched here.
func setupErr(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not support STARTTLS"):
		return fmt.Errorf("connect: %w", ErrSTARTTLSUnavailable)
	case errors.Is(err, mail.ErrPlainAuthNotSupported), errors.Is(err, mail.ErrLoginAuthNotSupported),
		errors.Is(err, mail.ErrCramMD5AuthNotSupported):
		return fmt.Errorf("connect: %w: %w", ErrAuthUnavailable, err)
	case strings.Contains(msg, "does not support SMTP AUTH"):
		return fmt.Errorf("connect: %w", ErrAuthUnavailable)
	}
	if strings.Contains(msg, "SMTP AUTH failed") {
		return smtpErr("AUTH", err)
	}
	return smtpErr("connect", err)
}

// scrubbedError hides a secret that a library error may echo, keeping the
// chain for errors.Is/As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub returns err with every occurrence of s removed from its message.
// The class markers (notify.Permanent) stay visible through Unwrap.
func scrub(s secret.String, err error) error {
	if err == nil || s.IsZero() {
		return err
	}
	msg := err.Error()
	clean := s.Scrub(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}
