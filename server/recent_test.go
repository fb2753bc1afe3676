package server

import (
	"slices"
	"testing"
	"time"
)

func TestRecentStartsForgetAfterTheWindow(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := recentStarts{now: func() time.Time { return now }}
	r.add("alice\nreader", "req-1")
	now = now.Add(30 * time.Second)
	r.add("alice\nreader", "req-2")
	if got := r.ids("alice\nreader"); !slices.Equal(got, []string{"req-1", "req-2"}) {
		t.Fatalf("ids = %v", got)
	}
	if got := r.ids("alice\nadmin"); got != nil {
		t.Fatalf("another key: %v", got)
	}
	now = now.Add(31 * time.Second)
	if got := r.ids("alice\nreader"); !slices.Equal(got, []string{"req-2"}) {
		t.Fatalf("after 61 s: %v, want only req-2", got)
	}
	now = now.Add(time.Minute)
	if got := r.ids("alice\nreader"); got != nil || len(r.starts) != 0 {
		t.Fatalf("after the window: %v, entries %v", got, r.starts)
	}
}
