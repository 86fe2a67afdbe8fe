package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// withDatabaseURL puts a database_url (line 3, column 17) in a file,
// written with %s: quote it yourself, or give ${VAR}.
const withDatabaseURL = `server:
  listen: 127.0.0.1:9095
  database_url: %s
`

// dbPassword is distinctive so the tests can tell that no part of it
// shows.
const dbPassword = "Zq7-hunter-Pw9x"

// requireNoPassword fails if any recognisable part of dbPassword is in out.
func requireNoPassword(t *testing.T, out string) {
	t.Helper()
	for _, part := range []string{dbPassword, "Zq7", "hunter", "Pw9x"} {
		require.NotContains(t, out, part)
	}
}

func TestCheckConfig_DatabaseURLThatParsesIsOK(t *testing.T) {
	t.Parallel()
	ca := writeCA(t, "ca.pem", caPEM(t))
	for _, u := range []string{
		"postgres://klaxon:" + dbPassword + "@db.example.com:5432/klaxon?sslmode=disable",
		"postgresql://klaxon:" + dbPassword + "@db.example.com/klaxon?sslmode=verify-full&sslrootcert=" + ca,
		"host=db.example.com user=klaxon password='Zq7 hunter-Pw9x' dbname=klaxon sslmode=disable",
	} {
		out, errOut, err := run(t, nil, "check-config", writeFile(t, fmt.Sprintf(withDatabaseURL, fmt.Sprintf("%q", u))))
		require.NoError(t, err, errOut)
		require.Equal(t, "ok\n", out)
		require.Empty(t, errOut)
	}
}

func TestCheckConfig_DatabaseURLProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missingCA := filepath.Join(dir, "missing-ca.pem")
	notPEM := writeCA(t, "ca.txt", []byte("not a certificate\n"))
	const encode = " (characters such as @ : / ? # % in a password must be percent-encoded)"
	tests := []struct {
		name string
		url  string
		want string
		// pgxLeaks: pgx's own error text shows part of the password.
		pgxLeaks bool
	}{
		{
			// The / ends the host, so the password lands in the port.
			name: "unencoded slash in the password",
			url:  "postgres://klaxon:Zq7/hunter-Pw9x@db.example.com:5432/klaxon",
			want: "invalid port" + encode,
		},
		{
			// A / then a ? strand the rest of the password in the query,
			// which pgx quotes.
			name:     "unencoded slash and question mark",
			pgxLeaks: true,
			url:      "postgres://klaxon:Zq7/x?hunter-Pw9x@db.example.com/klaxon",
			want:     "failed to parse as URL" + encode,
		},
		{
			name: "bad percent-encoding",
			url:  "postgres://klaxon:Zq7%zzhunter-Pw9x@db.example.com/klaxon",
			want: "failed to parse as URL: invalid percent-encoded token in password" + encode,
		},
		{
			// pgx masks "password=Zq7" and shows the rest.
			name:     "unquoted space in a keyword/value password",
			pgxLeaks: true,
			url:      "host=db.example.com user=klaxon password=Zq7 hunter-Pw9x",
			want: "failed to parse as keyword/value: invalid keyword/value" +
				" (want a postgres:// URL, or key=value pairs with a value holding spaces in single quotes)",
		},
		{
			name: "another scheme",
			url:  "mysql://klaxon:" + dbPassword + "@db.example.com/klaxon",
			want: "a URL must start with postgres:// or postgresql://",
		},
		{
			name: "bad sslmode",
			url:  "postgres://klaxon:" + dbPassword + "@db.example.com/klaxon?sslmode=sometimes",
			want: "failed to configure TLS: sslmode is invalid",
		},
		{
			name: "bad connect_timeout",
			url:  "postgres://klaxon:" + dbPassword + "@db.example.com/klaxon?connect_timeout=soon",
			want: "invalid connect_timeout: invalid syntax",
		},
		{
			name: "bad pool setting",
			url:  "postgres://klaxon:" + dbPassword + "@db.example.com/klaxon?pool_max_conns=lots",
			want: "cannot parse pool_max_conns: invalid syntax",
		},
		{
			name: "sslrootcert missing",
			url:  "postgres://klaxon:" + dbPassword + "@db.example.com/klaxon?sslmode=verify-full&sslrootcert=" + missingCA,
			want: fmt.Sprintf("sslrootcert: cannot read CA file %q: no such file", missingCA),
		},
		{
			name: "sslrootcert not PEM",
			url:  "postgres://klaxon:" + dbPassword + "@db.example.com/klaxon?sslmode=verify-ca&sslrootcert=" + notPEM,
			want: fmt.Sprintf("sslrootcert: no PEM certificate found in CA file %q (want one or more -----BEGIN CERTIFICATE----- blocks)", notPEM),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, pgxErr := pgxpool.ParseConfig(tt.url)
			require.Error(t, pgxErr, "pgx accepts the URL")
			require.Equal(t, tt.pgxLeaks, strings.Contains(pgxErr.Error(), "hunter"), "pgx: %v", pgxErr)
			path, lines, all := checkFails(t, nil, fmt.Sprintf(withDatabaseURL, fmt.Sprintf("%q", tt.url)))
			require.Equal(t, []string{path + ":3:17: server.database_url: invalid PostgreSQL connection string: " + tt.want}, lines)
			requireNoPassword(t, all)
		})
	}
}

func TestCheckConfig_DatabaseURLFromTheEnvironment(t *testing.T) {
	t.Parallel()
	// docs/operations.md's way: database_url: ${KLAXON_DATABASE_URL}.
	text := fmt.Sprintf(withDatabaseURL, "${KLAXON_DATABASE_URL}")
	path, lines, all := checkFails(t, map[string]string{
		"KLAXON_DATABASE_URL": "postgres://klaxon:Zq7/hunter-Pw9x@db.example.com/klaxon",
	}, text)
	require.Equal(t, []string{path + `:3:17: server.database_url: invalid PostgreSQL connection string: invalid port` +
		` (characters such as @ : / ? # % in a password must be percent-encoded)`}, lines)
	requireNoPassword(t, all)

	out, errOut, err := run(t, map[string]string{
		"KLAXON_DATABASE_URL": "postgres://klaxon:Zq7%2Fhunter-Pw9x@db.example.com/klaxon?sslmode=disable",
	}, "check-config", writeFile(t, text))
	require.NoError(t, err, errOut)
	require.Equal(t, "ok\n", out)
}

func TestCheckConfig_DatabaseAndCAProblemsTogether(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	// Both come out, in the order of the file.
	text := strings.Replace(fmt.Sprintf(mailWithCA, missing), "  listen: 127.0.0.1:9095\n",
		"  listen: 127.0.0.1:9095\n  database_url: \"postgres://klaxon:"+dbPassword+"@db.example.com/klaxon?sslmode=nope\"\n", 1)
	path, lines, all := checkFails(t, nil, text)
	require.Equal(t, []string{
		path + ":3:17: server.database_url: invalid PostgreSQL connection string: failed to configure TLS: sslmode is invalid",
		fmt.Sprintf("%s:10:14: channels.mail.ca_file: cannot read CA file %q: no such file", path, missing),
	}, lines)
	requireNoPassword(t, all)
}

// serve refuses a database_url pgx cannot parse the way check-config does:
// at the field's line, with the reason, never a piece of the password.
func TestServe_DatabaseURLProblemAtItsLine(t *testing.T) {
	t.Parallel()
	file := writeFile(t, fmt.Sprintf(withDatabaseURL, fmt.Sprintf("%q", "postgres://klaxon:"+dbPassword+"@[db/klaxon")))
	out, errOut, err := run(t, nil, "serve", "--config", file, "--listen", "127.0.0.1:0")
	require.Error(t, err)
	require.Empty(t, out)
	require.Contains(t, errOut, file+":3:17: server.database_url: invalid PostgreSQL connection string: failed to parse as URL")
	requireNoPassword(t, errOut)
}
