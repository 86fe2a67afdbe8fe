package sqlite

import (
	"strings"

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

// The shared row shapes.
const (
	alertColumns        = rowcodec.AlertColumns
	notificationColumns = rowcodec.NotificationColumns
	silenceColumns      = rowcodec.SilenceColumns
)

var (
	alertUpsert      = rowcodec.AlertUpsert(placeholders(27))
	alertArgs        = rowcodec.AlertArgs
	scanAlert        = rowcodec.ScanAlert
	scanNotification = rowcodec.ScanNotification
	scanSilence      = rowcodec.ScanSilence
)

// placeholders returns "?, ?, ?" for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanner is *sql.Row or *sql.Rows.
type scanner = rowcodec.Scanner
