package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// crashEnv names the database file the child writes to.
const crashEnv = "KLAXON_SQLITE_CRASH_CHILD"

// crashChild, in the re-executed test binary, writes until it is killed:
// commit i applies alert ci with a notification and a silence si, then
// finishes the notification of commit i-1 as sent, and prints "committed i".
func crashChild() bool {
	path := os.Getenv(crashEnv)
	if path == "" {
		return false
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var prev int64
	for i := 1; ; i++ {
		a := storetest.NewAlert(fmt.Sprintf("c%d", i), fmt.Sprintf("c%d", i), alert.StateActive, storetest.T0)
		ns, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{
			storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)),
		}})
		if err == nil {
			err = s.SilenceUpsert(ctx, &store.Silence{ID: fmt.Sprintf("s%d", i), StartsAt: storetest.T0,
				EndsAt: storetest.T0.Add(time.Duration(i) * time.Second), CreatedAt: storetest.T0, UpdatedAt: storetest.T0})
		}
		if err == nil && prev != 0 {
			_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
				{ID: prev, State: store.NotificationSent, Attempts: 1,
					Delivery: &store.Delivery{At: storetest.T0, Attempt: 1, Outcome: store.OutcomeSent}},
			}})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		prev = ns[0].ID
		fmt.Printf("committed %d\n", i)
	}
}

func TestCrash_KillNine(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for round := range 3 {
		path := fmt.Sprintf("%s/crash%d.db", t.TempDir(), round)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// Kill at a random moment after a random number of commits.
		target := 5 + rand.IntN(60)
		committed := 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed "))
			require.NoError(t, err, sc.Text())
			committed = n
			if n >= target {
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				require.NoError(t, cmd.Process.Kill()) // SIGKILL
				break
			}
		}
		// Drain what the child printed before it died: those commits count too.
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil {
				committed = n
			}
		}
		_ = cmd.Wait()
		require.GreaterOrEqual(t, committed, target)
		verifyCrash(t, path, committed)
	}
}

// verifyCrash checks that every commit up to committed survived.
func verifyCrash(t *testing.T, path string, committed int) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	defer s.Close()
	ctx := t.Context()
	for i := 1; i <= committed; i++ {
		a, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: fmt.Sprintf("c%d", i)})
		require.NoError(t, err, "alert %d of %d", i, committed)
		require.Equal(t, alert.StateActive, a.State)
		require.Equal(t, storetest.T0, a.StartedAt)
		ns, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: a.ID})
		require.NoError(t, err)
		require.Len(t, ns, 1)
		if i < committed {
			require.Equal(t, store.NotificationSent, ns[0].State, "commit %d finished by commit %d", i, i+1)
		}
		sil, err := s.SilenceGet(ctx, fmt.Sprintf("s%d", i))
		require.NoError(t, err)
		require.Equal(t, storetest.T0.Add(time.Duration(i)*time.Second), sil.EndsAt)
	}
	ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{Limit: committed + 10})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ds), committed-1)
}
