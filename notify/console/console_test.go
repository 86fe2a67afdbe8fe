package console

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
)

func TestChannel_Send(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	ch, err := New("console", Config{}, WithWriter(&buf))
	require.NoError(t, err)
	n := notify.SampleNotification("console", time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	n.Event = notify.EventActive
	rc, err := ch.Send(context.Background(), n)
	require.NoError(t, err)
	require.Equal(t, "printed", rc.Detail)
	line := buf.String()
	require.Contains(t, line, "[CRITICAL] ACTIVE High error rate: Error rate is 12.5% (threshold 5%)")
	require.Contains(t, line, "value=0.125 threshold=0.05")
	require.Contains(t, line, `service="checkout"`)
	require.Equal(t, byte('\n'), line[len(line)-1])
}

func TestChannel_SendCanceled(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	ch, _ := New("console", Config{}, WithWriter(&buf))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ch.Send(ctx, notify.SampleNotification("console", time.Now()))
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, buf.String())
}
