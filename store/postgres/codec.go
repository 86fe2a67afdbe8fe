package postgres

import (
	"strconv"
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
	alertUpsert      = rowcodec.AlertUpsert(dollars(27))
	alertArgs        = rowcodec.AlertArgs
	scanAlert        = rowcodec.ScanAlert
	scanNotification = rowcodec.ScanNotification
	scanSilence      = rowcodec.ScanSilence
)

// dollars returns "$1, $2, ..., $n".
func dollars(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i))
	}
	return b.String()
}

// scanner is pgx.Row or pgx.Rows.
type scanner = rowcodec.Scanner
