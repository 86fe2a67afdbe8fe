package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

type noChannels struct{}

func (noChannels) Health() []notify.ChannelHealth { return nil }

// Each dashboard table's empty row spans every column its header has, so
// adding a column cannot leave the empty row short.
func TestDashboard_EmptyRowsSpanEveryColumn(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m, err := lifecycle.New(t.Context(), lifecycle.Options{Store: st})
	require.NoError(t, err)
	h, err := api.New(api.Options{Manager: m, Store: st, Dispatcher: noChannels{}, Token: secret.New(""), Version: "test"})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	tables := strings.Split(string(raw), "<table>")[1:]
	require.Len(t, tables, 4, "alerts, channels, silences, deliveries")
	colspan := regexp.MustCompile(`colspan="(\d+)">([^<]*)<`)
	for _, table := range tables {
		table = table[:strings.Index(table, "</table>")]
		header := table[:strings.Index(table, "</tr>")]
		m := colspan.FindStringSubmatch(table)
		require.NotNil(t, m, "no empty row in %s", table)
		require.Equal(t, fmt.Sprint(strings.Count(header, "<th>")), m[1], "the row %q", m[2])
	}
}
