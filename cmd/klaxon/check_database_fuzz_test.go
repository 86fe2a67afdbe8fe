package main

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// FuzzDatabaseReason: whatever the connection string, the reason
// check-config gives for a parse failure repeats no four characters of the
// password that are not also in the rest of the string or in klaxon's own
// wording.
func FuzzDatabaseReason(f *testing.F) {
	for _, s := range [][3]string{
		{"klaxon", "Zq7/x?hunter-Pw9x", "db/klaxon"},
		{"klaxon", "Zq7hunterPw9x", "db:notaport/klaxon"},
		{"k", "p@ss:word", "db:5432/klaxon?sslmode=verify-full&sslrootcert=/nope/ca.pem"},
		{"", "", "db/klaxon?connect_timeout=x"},
		{"klaxon", "Pw9x%zz", "[::1/klaxon"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	own := strings.Join(append(append([]string{}, pgxMessages...),
		"cannot be parsed", "a URL must start with postgres:// or postgresql://",
		"characters such as @ : / ? # % in a password must be percent-encoded",
		"want a postgres:// URL, or key=value pairs with a value holding spaces in single quotes",
		"the CA file does not read or holds no PEM certificate", "no PEM certificate found in the CA file",
		"could not match port numbers to hosts", "unknown target_session_attrs value",
		"invalid min_protocol_version", "invalid max_protocol_version", "unknown channel_binding value"), "\n")
	f.Fuzz(func(t *testing.T, user, password, rest string) {
		conn := "postgres://" + user + ":" + password + "@" + rest
		_, err := pgxpool.ParseConfig(conn)
		if err == nil {
			return
		}
		reason := databaseReason(conn, err)
		for i := 0; i+4 <= len(password); i++ {
			w := password[i : i+4]
			if strings.Contains(reason, w) && !strings.Contains(user+"@"+rest, w) && !strings.Contains(own, w) {
				t.Fatalf("reason %q repeats %q of the password %q (connection string %q)", reason, w, password, conn)
			}
		}
	})
}
