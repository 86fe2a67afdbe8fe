package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify/email"
	"github.com/klaxonhq/klaxon/notify/webhook"
)

// mailWithCA is an email channel whose ca_file (line 9, column 14) is
// filled in with %q.
const mailWithCA = `server:
  listen: 127.0.0.1:9095
channels:
  mail:
    type: email
    smtp_host: smtp.example.com
    from: klaxon@example.com
    to: [ops@example.com]
    ca_file: %q
routes:
  - notify: [mail]
`

// caPEM is a self-signed CA certificate, PEM encoded.
func caPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "klaxon test CA"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeCA writes data as name in a new directory and returns its path.
func writeCA(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// checkFails runs check-config on text and returns its problem lines.
func checkFails(t *testing.T, env map[string]string, text string) (path string, lines []string, all string) {
	t.Helper()
	path = writeFile(t, text)
	out, errOut, err := run(t, env, "check-config", path)
	var ec exitCode
	require.True(t, asExit(err, &ec), "err %v, stdout %q, stderr %q", err, out, errOut)
	require.Equal(t, exitCode(1), ec)
	require.Empty(t, out)
	return path, strings.Split(strings.TrimSpace(errOut), "\n"), out + errOut
}

func TestCheckConfig_CAFileWithACertificateIsOK(t *testing.T) {
	t.Parallel()
	// A bundle: a certificate, then something that is not one.
	ca := writeCA(t, "ca.pem", append(caPEM(t), "# trailing comment\n"...))
	out, errOut, err := run(t, nil, "check-config", writeFile(t, fmt.Sprintf(mailWithCA, ca)))
	require.NoError(t, err, errOut)
	require.Equal(t, "ok\n", out)
	require.Empty(t, errOut)
}

func TestCheckConfig_CAFileProblems(t *testing.T) {
	t.Parallel()
	// Contents that must never show in the output.
	const marker = "DO-NOT-PRINT-7f3a"
	notPEM := "this is not a certificate " + marker + "\n"
	keyOnly := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(marker + marker)})
	badCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(marker + marker)})
	noPEM := func(p string) string {
		return fmt.Sprintf(`no PEM certificate found in CA file %q (want one or more -----BEGIN CERTIFICATE----- blocks)`, p)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns ca_file's value
		want  func(p string) string
	}{
		{
			name:  "missing",
			setup: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.pem") },
			want:  func(p string) string { return fmt.Sprintf(`cannot read CA file %q: no such file`, p) },
		},
		{
			name:  "a directory",
			setup: func(t *testing.T) string { return t.TempDir() },
			want:  func(p string) string { return fmt.Sprintf(`cannot read CA file %q: it is a directory`, p) },
		},
		{
			name:  "text, not PEM",
			setup: func(t *testing.T) string { return writeCA(t, "ca.txt", []byte(notPEM)) },
			want:  noPEM,
		},
		{
			name:  "PEM with a key and no certificate",
			setup: func(t *testing.T) string { return writeCA(t, "key.pem", keyOnly) },
			want:  noPEM,
		},
		{
			name:  "a CERTIFICATE block that is not X.509",
			setup: func(t *testing.T) string { return writeCA(t, "bad.pem", badCert) },
			want:  noPEM,
		},
		{
			name:  "empty",
			setup: func(t *testing.T) string { return writeCA(t, "empty.pem", nil) },
			want:  noPEM,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ca := tt.setup(t)
			path, lines, all := checkFails(t, nil, fmt.Sprintf(mailWithCA, ca))
			require.Equal(t, []string{path + ":9:14: channels.mail.ca_file: " + tt.want(ca)}, lines)
			require.NotContains(t, all, marker)
			require.NotContains(t, all, strings.TrimSpace(string(keyOnly[len("-----BEGIN PRIVATE KEY-----\n"):])))
		})
	}
}

func TestCheckConfig_CAFileNotReadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	ca := writeCA(t, "ca.pem", caPEM(t))
	require.NoError(t, os.Chmod(ca, 0o000))
	path, lines, _ := checkFails(t, nil, fmt.Sprintf(mailWithCA, ca))
	require.Equal(t, []string{fmt.Sprintf(`%s:9:14: channels.mail.ca_file: cannot read CA file %q: permission denied`, path, ca)}, lines)
}

func TestCheckConfig_CAFileRelativeToTheWorkingDirectory(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)
	path, lines, _ := checkFails(t, nil, fmt.Sprintf(mailWithCA, "no-such-ca-7f3a.pem"))
	require.Equal(t, []string{path + `:9:14: channels.mail.ca_file: cannot read CA file "no-such-ca-7f3a.pem": ` +
		"no such file (a relative path is read from the working directory, " + wd + ")"}, lines)
}

func TestCheckConfig_CAFileFromVariableAndMerge(t *testing.T) {
	t.Parallel()
	// One channel takes ca_file from a merged anchor (so its line is the
	// anchor's), with ${VAR}; another overrides it.
	text := `x-mail: &mail
  type: email
  smtp_host: smtp.example.com
  from: klaxon@example.com
  to: [ops@example.com]
  ca_file: ${MAIL_CA}
channels:
  backup:
    <<: *mail
    ca_file: ${OTHER_CA}
  mail:
    <<: *mail
routes:
  - notify: [mail, backup]
`
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := writeCA(t, "ca.txt", []byte("plain text\n"))
	path, lines, _ := checkFails(t, map[string]string{"MAIL_CA": missing, "OTHER_CA": notPEM}, text)
	require.Equal(t, []string{
		fmt.Sprintf(`%s:6:12: channels.mail.ca_file: cannot read CA file %q: no such file`, path, missing),
		fmt.Sprintf(`%s:10:14: channels.backup.ca_file: no PEM certificate found in CA file %q (want one or more -----BEGIN CERTIFICATE----- blocks)`, path, notPEM),
	}, lines)
}

// Every email channel's ca_file is found, at its own line; a channel name
// holding a dot is one step of the path; other channels and empty settings
// are skipped.
func TestCAFiles_FindsEveryCAFileAndItsLine(t *testing.T) {
	t.Parallel()
	text := `channels:
  mail.v2:
    type: email
    ca_file: /etc/ca.pem
  hook:
    type: webhook
  mail:
    type: email
    ca_file: /etc/mail-ca.pem
  plain:
    type: email
`
	cfg := &config.Config{Channels: map[string]*config.Channel{
		"mail.v2": {Name: "mail.v2", Type: "email", Config: &email.Config{CAFile: "/etc/ca.pem"}},
		"hook":    {Name: "hook", Type: "webhook", Config: &webhook.Config{}},
		"mail":    {Name: "mail", Type: "email", Config: &email.Config{CAFile: "/etc/mail-ca.pem"}},
		"plain":   {Name: "plain", Type: "email", Config: &email.Config{}},
	}}
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(text), &root))
	pos := &positions{file: "k.yml", root: root.Content[0]}
	var got []string
	for _, ca := range caFiles(cfg) {
		got = append(got, pos.problem(ca.path, ca.value).String())
	}
	require.Equal(t, []string{
		"k.yml:9:14: channels.mail.ca_file: /etc/mail-ca.pem",
		"k.yml:4:14: channels.mail.v2.ca_file: /etc/ca.pem",
	}, got)
}
