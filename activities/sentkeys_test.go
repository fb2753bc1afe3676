package activities

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Keys are kept a day: long past the email activity's last retry, and the
// file does not grow without end.
func TestSentKeysForgetOldKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sent")
	s, err := OpenSentKeys(path)
	require.NoError(t, err)
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return start }
	require.NoError(t, s.Add("old"))
	s.now = func() time.Time { return start.Add(20 * time.Hour) }
	require.NoError(t, s.Add("new"))

	// A crash can leave half a line at the end.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"key":"half`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	later := &SentKeys{path: path, keys: map[string]time.Time{}, now: func() time.Time { return start.Add(25 * time.Hour) }}
	require.NoError(t, later.load())
	require.NoError(t, later.compact())
	require.False(t, later.Has("old"))
	require.True(t, later.Has("new"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(data), "old")
	require.NotContains(t, string(data), "half")
}
