package postgres

import (
	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

// The shared column encodings (see store/internal/rowcodec).
var (
	nanos        = rowcodec.Nanos
	fromNanos    = rowcodec.FromNanos
	ptrNanos     = rowcodec.PtrNanos
	fromPtrNanos = rowcodec.FromPtrNanos
	jsonText     = rowcodec.JSONText
	fromJSON     = rowcodec.FromJSON
)

// scanner is pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}
