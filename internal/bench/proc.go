package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// PeakRSSMB reads the process's peak resident set (VmHWM) from
// /proc/self/status, in MB.
func PeakRSSMB() (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	return vmHWM(bufio.NewScanner(f))
}

func vmHWM(s *bufio.Scanner) (float64, error) {
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("peak RSS: VmHWM %q: %w", rest, err)
		}
		return round(kb / 1024), nil
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM line in /proc/self/status")
}

// loadAverage is the 1-minute load average, 0 where /proc/loadavg is
// missing: it annotates the numbers, it is not one of them.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}

// DatabaseMB is the size of Temporal's SQLite database in dir: the file
// and its write-ahead log and shared-memory index.
func DatabaseMB(dir string) (float64, error) {
	var total int64
	for _, name := range []string{"temporal.db", "temporal.db-wal", "temporal.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if os.IsNotExist(err) && name != "temporal.db" {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("database size: %w", err)
		}
		total += fi.Size()
	}
	return round(float64(total) / (1 << 20)), nil
}

// RuntimeStats is where the process's memory goes, as Go sees it.
type RuntimeStats struct {
	HeapInuseMB  float64
	StackInuseMB float64
	SysMB        float64 // all the runtime holds from the OS
	Goroutines   int
}

func runtimeStats() RuntimeStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mb := func(b uint64) float64 { return round(float64(b) / (1 << 20)) }
	return RuntimeStats{HeapInuseMB: mb(m.HeapInuse), StackInuseMB: mb(m.StackInuse), SysMB: mb(m.Sys), Goroutines: runtime.NumGoroutine()}
}
