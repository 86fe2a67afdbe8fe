package sqlite

import (
	"path/filepath"
	"testing"
)

// The writer's page cache is 1 MB (cache_size -1000), the readers' 512 KB.
func TestOpen_CacheSizePerConnection(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var w, r int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != -1000 || r != -512 {
		t.Fatalf("writer cache_size %d, reader %d; want -1000, -512", w, r)
	}
}
