// Package e2e holds klaxon's delivery acceptance tests: klaxon runs
// in-process (klaxon.New on a loopback port) or as a `klaxon serve` child
// process that the tests SIGKILL and restart, in front of loopback webhook
// receivers that fail on purpose (see package klaxontest). Every test
// asserts behaviour (what arrived, under which idempotency key, what the
// delivery log and the API show), never speed; the only timing checks are
// lower bounds that klaxon guarantees by design (a Retry-After or an
// escalation delay is never cut short).
package e2e
