package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/store"
)

// SilenceUpsert inserts the silence or replaces every field of the one with
// its id.
func (s *Store) SilenceUpsert(ctx context.Context, sil *store.Silence) error {
	if sil.ID == "" {
		return errors.New("upsert silence: empty id")
	}
	matchers, err := jsonText(sil.Matchers, "[]")
	if err != nil {
		return fmt.Errorf("upsert silence %s: encode matchers: %w", sil.ID, err)
	}
	// Fenced like Apply: the leader keeps silences in memory, so one a
	// deposed leader wrote would be in the table but not in force.
	err = s.write(ctx, func(tx pgx.Tx) error {
		if err := s.fence(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO silences (`+silenceColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at,
			created_by = excluded.created_by, comment = excluded.comment,
			created_at = excluded.created_at, updated_at = excluded.updated_at`,
			noNUL([]any{sil.ID, matchers, nanos(sil.StartsAt), nanos(sil.EndsAt), sil.CreatedBy, sil.Comment,
				nanos(sil.CreatedAt), nanos(sil.UpdatedAt)})...)
		return err
	})
	if err != nil {
		return fmt.Errorf("upsert silence %s: %w", sil.ID, err)
	}
	return nil
}

// SilenceGet returns one silence, or an error wrapping store.ErrNotFound.
func (s *Store) SilenceGet(ctx context.Context, id string) (*store.Silence, error) {
	sil, err := scanSilence(s.pool.QueryRow(ctx, `SELECT `+silenceColumns+` FROM silences WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("silence %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get silence: %w", err)
	}
	return sil, nil
}

// SilenceList returns silences, newest (latest created) first; expired ones
// (EndsAt <= p.Now) only when p.IncludeExpired.
func (s *Store) SilenceList(ctx context.Context, p *store.SilenceListParams) ([]*store.Silence, error) {
	q := `SELECT ` + silenceColumns + ` FROM silences`
	var a args
	if !p.IncludeExpired {
		q += ` WHERE ends_at > ` + a.arg(nanos(p.Now))
	}
	q += ` ORDER BY created_at DESC, id DESC`
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	defer rows.Close()
	var out []*store.Silence
	for rows.Next() {
		sil, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("list silences: %w", err)
		}
		out = append(out, sil)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	return out, nil
}
