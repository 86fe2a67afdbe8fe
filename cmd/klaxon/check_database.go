package main

import (
	"errors"
	"io/fs"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxonhq/klaxon/config"
)

var databaseURLPath = fieldPath{{key: "server"}, {key: "database_url"}}

// checkDatabaseURL parses server.database_url (after ${VAR} expansion, so
// also when it comes from the environment) the way `serve` will when it
// opens the store, with pgxpool.ParseConfig, which connects to nothing. It
// does read the files the URL names (sslrootcert, sslcert, sslkey) and the
// PG* environment variables, as `serve` does.
//
// pgx's error text quotes the connection string with the password masked
// on a best-effort basis only, and its inner errors can quote pieces of a
// malformed string (a password with an unencoded / lands in the port), so
// the message is klaxon's own: a fixed reason, plus pgx's detail only when
// it shares nothing with where a password could be.
func checkDatabaseURL(pos *positions, cfg *config.Config) config.Problems {
	conn := cfg.Server.DatabaseURL.Reveal()
	if conn == "" {
		return nil
	}
	if _, err := pgxpool.ParseConfig(conn); err != nil {
		return config.Problems{pos.problem(databaseURLPath, "invalid PostgreSQL connection string: "+databaseReason(conn, err))}
	}
	return nil
}

// pgxMessages are the fixed reasons pgx (v5: pgconn, pgx, pgxpool) gives a
// ParseConfigError, as they read after "cannot parse `...`: ".
var pgxMessages = []string{
	"failed to parse as URL",
	"failed to parse as keyword/value",
	"failed to read service",
	"invalid sslcertmode",
	"invalid connect_timeout",
	"invalid port",
	"failed to configure TLS",
	"min_protocol_version cannot be greater than max_protocol_version",
	"invalid require_auth",
	"cannot parse statement_cache_capacity",
	"cannot parse description_cache_capacity",
	"invalid default_query_exec_mode",
	"cannot parse pool_max_conns",
	"pool_max_conns too small",
	"cannot parse pool_min_conns",
	"cannot parse pool_min_idle_conns",
	"cannot parse pool_max_conn_lifetime",
	"cannot parse pool_max_conn_idle_time",
	"cannot parse pool_health_check_period",
	"cannot parse pool_max_conn_lifetime_jitter",
	"cannot parse pool_ping_timeout",
}

// pgxValueMessages are pgx reasons that end in the offending value, which
// is left out.
var pgxValueMessages = regexp.MustCompile("`: (could not match \\d+ port numbers to \\d+ hosts|" +
	"unknown target_session_attrs value|invalid min_protocol_version|invalid max_protocol_version|" +
	"unknown channel_binding value)(: [^`]*)?$")

// databaseReason says what is wrong with conn, given pgx's error, never
// quoting anything that could be (part of) a password.
func databaseReason(conn string, err error) string {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") && strings.Contains(conn, "://") {
		return "a URL must start with postgres:// or postgresql://"
	}
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return "cannot be parsed"
	}
	inner := errors.Unwrap(pe)
	text := pe.Error()
	if inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	msg := ""
	for _, m := range pgxMessages {
		if strings.HasSuffix(text, "`: "+m) {
			msg = m
			break
		}
	}
	if m := pgxValueMessages.FindStringSubmatch(text); msg == "" && m != nil {
		msg = m[1]
	}
	if msg == "" {
		return "cannot be parsed"
	}
	regions := passwordRegions(conn)
	detail := ""
	switch {
	case inner == nil:
	case msg == "failed to configure TLS" && strings.HasPrefix(inner.Error(), "unable to read CA file"),
		msg == "failed to configure TLS" && inner.Error() == "unable to add CA to cert pool":
		msg, detail = "sslrootcert", caDetail(conn, inner)
	default:
		var ne *strconv.NumError
		if errors.As(inner, &ne) {
			detail = ne.Err.Error()
		} else {
			detail = inner.Error()
		}
	}
	if detail != "" && sharesWith(detail, regions) {
		detail = ""
	}
	if msg == "sslrootcert" && detail == "" {
		detail = "the CA file does not read or holds no PEM certificate"
	}
	if detail != "" {
		msg += ": " + detail
	}
	if strings.HasPrefix(conn, "postgres") && strings.Contains(conn, "@") &&
		(msg == "invalid port" || strings.HasPrefix(msg, "failed to parse as URL") || strings.HasPrefix(msg, "could not match")) {
		msg += " (characters such as @ : / ? # % in a password must be percent-encoded)"
	}
	if strings.HasPrefix(msg, "failed to parse as keyword/value") {
		msg += " (want a postgres:// URL, or key=value pairs with a value holding spaces in single quotes)"
	}
	return msg
}

// caDetail describes pgx's failure to read the CA file (sslrootcert) in
// the words check-config uses for every CA file: klaxon's own check of the
// file named in the URL, when the URL names one.
func caDetail(conn string, inner error) string {
	if u, err := url.Parse(conn); err == nil {
		if name := u.Query().Get("sslrootcert"); name != "" && name != "system" {
			if msg := checkCAFile(name); msg != "" {
				return msg
			}
		}
	}
	// Keyword/value form, or PGSSLROOTCERT: pgx's words.
	var pathErr *fs.PathError
	if errors.As(inner, &pathErr) {
		return "cannot read CA file " + strconv.Quote(pathErr.Path) + ": " + fileErrReason(pathErr.Path, pathErr)
	}
	return "no PEM certificate found in the CA file"
}

// passwordRegions are the parts of conn a password could be in, generously
// (a malformed string has no certain boundaries): in a URL, everything
// between the first ":" after "://" and the last "@"; and everything after
// each "password" (password=, sslpassword=, in a query or keyword/value),
// each also percent-decoded.
func passwordRegions(conn string) []string {
	var out []string
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				out = append(out, pw)
			}
		}
	}
	lower := strings.ToLower(conn)
	for off := 0; ; {
		i := strings.Index(lower[off:], "password")
		if i < 0 {
			break
		}
		off += i + len("password")
		out = append(out, conn[off:])
	}
	for _, r := range out {
		if d, err := url.QueryUnescape(r); err == nil && d != r {
			out = append(out, d)
		}
		if d, err := url.PathUnescape(r); err == nil && d != r {
			out = append(out, d)
		}
	}
	return out
}

// sharesWith reports whether text holds any run of four characters (or a
// whole shorter region) of a region: then it may quote part of a password.
func sharesWith(text string, regions []string) bool {
	for _, r := range regions {
		w := min(4, len(r))
		for i := 0; w > 0 && i+w <= len(r); i++ {
			if strings.Contains(text, r[i:i+w]) {
				return true
			}
		}
	}
	return false
}
