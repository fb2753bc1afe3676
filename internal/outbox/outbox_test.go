package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/activities"
)

func TestSendKeepsEachKeyOnceAndPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := activities.Message{To: []string{"bob@example.com"}, Subject: "s", Text: "t", HTML: "h", Key: "req-1/approval_needed/1"}
	for range 3 {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	m.Key = "req-1/active"
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	reopened, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(reopened.Emails()); got != 2 {
		t.Fatalf("after reopen: %d emails, want 2", got)
	}
	m.Key = "req-1/active"
	if err := reopened.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := len(reopened.Emails()); got != 2 {
		t.Fatalf("a key sent before the restart was stored again: %d emails", got)
	}
}

func TestSendWithoutRecipientIsPermanent(t *testing.T) {
	o, _ := Open("")
	err := o.Send(context.Background(), activities.Message{Subject: "x"})
	var perm *activities.PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("err = %v, want a PermanentError", err)
	}
}

func TestServeHTTPListsOldestFirstWithoutKeys(t *testing.T) {
	o, _ := Open("")
	for _, s := range []string{"first", "second"} {
		if err := o.Send(context.Background(), activities.Message{To: []string{"a@example.com"}, Subject: s, Key: s}); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox", nil))
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["subject"] != "first" || got[1]["subject"] != "second" {
		t.Fatalf("outbox = %v", got)
	}
	if _, ok := got[0]["key"]; ok {
		t.Fatal("outbox exposes idempotency keys")
	}
	if rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
	}
}

func TestServeHTTPEmptyIsArray(t *testing.T) {
	o, _ := Open("")
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
		t.Fatalf("empty outbox = %s, want []", got)
	}
}

func TestOpenConvertsTheArrayForm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.json")
	old := `[{"to":["bob@example.com"],"subject":"first","text":"t","html":"h","sent_at":"2026-11-26T09:00:00Z","key":"k1"}]`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Send(context.Background(), activities.Message{To: []string{"a@example.com"}, Subject: "second", Key: "k2"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Send(context.Background(), activities.Message{To: []string{"a@example.com"}, Subject: "again", Key: "k1"}); err != nil {
		t.Fatal(err)
	}
	got := subjects(o.Emails())
	if strings.Join(got, ",") != "first,second" {
		t.Fatalf("emails %v, want first,second (k1 was sent before the conversion)", got)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 2 || data[0] != '{' {
		t.Fatalf("file is not two JSON lines:\n%s", data)
	}
}

func TestOpenDropsATornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	whole := `{"to":["bob@example.com"],"subject":"whole","key":"k1"}` + "\n"
	if err := os.WriteFile(path, []byte(whole+`{"to":["bob@exa`), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Send(context.Background(), activities.Message{To: []string{"a@example.com"}, Subject: "next", Key: "k2"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(subjects(o.Emails()), ","); got != "whole,next" {
		t.Fatalf("emails %s, want whole,next", got)
	}
}

func TestOpenNamesABadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	if err := os.WriteFile(path, []byte("{\"subject\":\"ok\"}\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func TestSendAfterCloseFails(t *testing.T) {
	o, err := Open(filepath.Join(t.TempDir(), "outbox.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	if err := o.Send(context.Background(), activities.Message{To: []string{"a@example.com"}}); err == nil {
		t.Fatal("a closed outbox took an email")
	}
}

func subjects(emails []Email) []string {
	var out []string
	for _, e := range emails {
		out = append(out, e.Subject)
	}
	return out
}
