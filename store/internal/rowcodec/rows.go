package rowcodec

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// The alert and notification rows, the same on both backends; only the
// statements' parameter markers differ.

// Scanner is a row of database/sql or pgx.
type Scanner interface {
	Scan(dest ...any) error
}

// AlertColumns lists the alerts table's columns in AlertArgs' order.
const AlertColumns = `id, fingerprint, rule_id, rule_name, state, severity, summary, description,
	labels, annotations, value, threshold, source, metadata, started_at, updated_at, active_at,
	acknowledged_at, acknowledged_by, ack_comment, resolved_at, ends_at, silenced_by,
	last_notified_at, channels, escalation_level, sequence`

// AlertUpsert is the statement that writes an alert row, with values as
// its VALUES list (27 parameter markers, AlertArgs' order).
func AlertUpsert(values string) string {
	return `INSERT INTO alerts (` + AlertColumns + `)
	VALUES (` + values + `)
	ON CONFLICT (id) DO UPDATE SET
	fingerprint = excluded.fingerprint, rule_id = excluded.rule_id, rule_name = excluded.rule_name,
	state = excluded.state, severity = excluded.severity, summary = excluded.summary,
	description = excluded.description, labels = excluded.labels, annotations = excluded.annotations,
	value = excluded.value, threshold = excluded.threshold, source = excluded.source,
	metadata = excluded.metadata, started_at = excluded.started_at, updated_at = excluded.updated_at,
	active_at = excluded.active_at, acknowledged_at = excluded.acknowledged_at,
	acknowledged_by = excluded.acknowledged_by, ack_comment = excluded.ack_comment,
	resolved_at = excluded.resolved_at, ends_at = excluded.ends_at, silenced_by = excluded.silenced_by,
	last_notified_at = excluded.last_notified_at, channels = excluded.channels,
	escalation_level = excluded.escalation_level, sequence = excluded.sequence`
}

// AlertArgs returns the parameters of AlertUpsert.
func AlertArgs(a *alert.Alert) ([]any, error) {
	labels, err := JSONText(a.Labels, "{}")
	if err != nil {
		return nil, fmt.Errorf("encode labels: %w", err)
	}
	annotations, err := JSONText(a.Annotations, "{}")
	if err != nil {
		return nil, fmt.Errorf("encode annotations: %w", err)
	}
	metadata, err := JSONText(a.Metadata, "{}")
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	channels, err := JSONText(a.Channels, "[]")
	if err != nil {
		return nil, fmt.Errorf("encode channels: %w", err)
	}
	var threshold sql.NullFloat64
	if a.Threshold != nil {
		threshold = sql.NullFloat64{Float64: *a.Threshold, Valid: true}
	}
	return []any{
		a.ID, string(a.Fingerprint), a.RuleID, a.RuleName, string(a.State), int(a.Severity),
		a.Summary, a.Description, labels, annotations, a.Value, threshold, a.Source, metadata,
		Nanos(a.StartedAt), Nanos(a.UpdatedAt), PtrNanos(a.ActiveAt), PtrNanos(a.AcknowledgedAt),
		a.AcknowledgedBy, a.AckComment, PtrNanos(a.ResolvedAt), PtrNanos(a.EndsAt), a.SilencedBy,
		PtrNanos(a.LastNotifiedAt), channels, a.EscalationLevel, a.Sequence,
	}, nil
}

// ScanAlert reads a row of AlertColumns.
func ScanAlert(sc Scanner) (*alert.Alert, error) {
	var (
		a                                       alert.Alert
		fp, state                               string
		sev                                     int
		labels, annotations, metadata, channels string
		threshold                               sql.NullFloat64
		started, updated                        int64
		active, acked, resolved, ends, notified sql.NullInt64
	)
	err := sc.Scan(&a.ID, &fp, &a.RuleID, &a.RuleName, &state, &sev, &a.Summary, &a.Description,
		&labels, &annotations, &a.Value, &threshold, &a.Source, &metadata, &started, &updated, &active,
		&acked, &a.AcknowledgedBy, &a.AckComment, &resolved, &ends, &a.SilencedBy,
		&notified, &channels, &a.EscalationLevel, &a.Sequence)
	if err != nil {
		return nil, err
	}
	a.Fingerprint = alert.Fingerprint(fp)
	a.State = alert.State(state)
	a.Severity = alert.Severity(sev)
	if threshold.Valid {
		v := threshold.Float64
		a.Threshold = &v
	}
	a.StartedAt, a.UpdatedAt = FromNanos(started), FromNanos(updated)
	a.ActiveAt, a.AcknowledgedAt = FromPtrNanos(active), FromPtrNanos(acked)
	a.ResolvedAt, a.EndsAt, a.LastNotifiedAt = FromPtrNanos(resolved), FromPtrNanos(ends), FromPtrNanos(notified)
	if err := errors.Join(FromJSON(labels, &a.Labels), FromJSON(annotations, &a.Annotations),
		FromJSON(metadata, &a.Metadata), FromJSON(channels, &a.Channels)); err != nil {
		return nil, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	return &a, nil
}

// NotificationColumns lists the notifications columns ScanNotification reads.
const NotificationColumns = `id, idempotency_key, alert_id, fingerprint, sequence, channel, event,
	priority, payload, group_key, failover, state, attempts, created_at, next_attempt_at,
	locked_until, locked_by, last_error, failed_over_to, updated_at`

// ScanNotification reads a row of NotificationColumns.
func ScanNotification(sc Scanner) (*store.Notification, error) {
	var (
		n                              store.Notification
		fp, failover, state            string
		created, next, locked, updated int64
	)
	err := sc.Scan(&n.ID, &n.IdempotencyKey, &n.AlertID, &fp, &n.Sequence, &n.Channel, &n.Event,
		&n.Priority, &n.Payload, &n.GroupKey, &failover, &state, &n.Attempts, &created, &next,
		&locked, &n.LockedBy, &n.LastError, &n.FailedOverTo, &updated)
	if err != nil {
		return nil, err
	}
	n.Fingerprint, n.State = alert.Fingerprint(fp), store.NotificationState(state)
	n.CreatedAt, n.NextAttemptAt = FromNanos(created), FromNanos(next)
	n.LockedUntil, n.UpdatedAt = FromNanos(locked), FromNanos(updated)
	if err := FromJSON(failover, &n.Failover); err != nil {
		return nil, fmt.Errorf("notification %d: failover: %w", n.ID, err)
	}
	return &n, nil
}

// SilenceColumns lists the silences columns ScanSilence reads.
const SilenceColumns = `id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at`

// ScanSilence reads a row of SilenceColumns.
func ScanSilence(sc Scanner) (*store.Silence, error) {
	var (
		sil                            store.Silence
		matchers                       string
		starts, ends, created, updated int64
	)
	if err := sc.Scan(&sil.ID, &matchers, &starts, &ends, &sil.CreatedBy, &sil.Comment,
		&created, &updated); err != nil {
		return nil, err
	}
	sil.StartsAt, sil.EndsAt = FromNanos(starts), FromNanos(ends)
	sil.CreatedAt, sil.UpdatedAt = FromNanos(created), FromNanos(updated)
	if err := FromJSON(matchers, &sil.Matchers); err != nil {
		return nil, fmt.Errorf("silence %s: matchers: %w", sil.ID, err)
	}
	for i := range sil.Matchers {
		if err := sil.Matchers[i].Compile(); err != nil {
			return nil, fmt.Errorf("silence %s: %w", sil.ID, err)
		}
	}
	return &sil, nil
}
