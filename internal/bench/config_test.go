package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{Requests: 10, Concurrency: 2, Grant: time.Second, Latency: 1, ListCalls: 1, Role: "reader", Requesters: []string{"alice"}, Approver: "bob"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }, "--concurrency 0: must be at least 1"},
		{"grant", func(c *Config) { c.Grant = 10 * time.Millisecond }, "--grant 10ms: must be at least 1s"},
		{"self-approval", func(c *Config) { c.Requesters = []string{"alice", "bob"} }, `--requester "bob": must be a user name other than the approver`},
		{"no approver", func(c *Config) { c.Approver = "" }, "--approver: a user name is required"},
		{"no role", func(c *Config) { c.Role = "" }, "--role: a role name is required"},
		{"several", func(c *Config) { c.Requests, c.Latency = 0, 0 }, "--requests 0: must be at least 1\n--latency 0: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVMHWM(t *testing.T) {
	status := "Name:\tjitflow\nVmPeak:\t 2000000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  400000 kB\n"
	got, err := vmHWM(bufio.NewScanner(strings.NewReader(status)))
	if err != nil || got != 512 {
		t.Fatalf("vmHWM = %v, %v; want 512", got, err)
	}
	if _, err := vmHWM(bufio.NewScanner(strings.NewReader("Name:\tx\n"))); err == nil {
		t.Fatal("no VmHWM line gave no error")
	}
}

func TestDatabaseMB(t *testing.T) {
	dir := t.TempDir()
	if _, err := DatabaseMB(dir); err == nil {
		t.Fatal("a dir without temporal.db gave no error")
	}
	write := func(name string, size int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("temporal.db", 1<<20)
	write("temporal.db-wal", 1<<19)
	write("outbox.json", 1<<22) // not the database
	if got, err := DatabaseMB(dir); err != nil || got != 1.5 {
		t.Fatalf("DatabaseMB = %v, %v; want 1.5", got, err)
	}
}
