package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// ProcSample is a reading of a process's CPU time and resident memory from /proc.
type ProcSample struct {
	At      time.Time
	CPU     time.Duration // utime + stime
	RSSKiB  int64         // VmRSS
	Threads int64
}

// SampleProc reads /proc/PID/stat and /proc/PID/status (pid 0 means this process).
func SampleProc(pid int) (ProcSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	s := ProcSample{At: time.Now()}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may contain spaces: the
	// first is field 3 (state); utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("loadgen: cannot parse %s/stat", dir)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return s, fmt.Errorf("loadgen: cannot parse %s/stat", dir)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("loadgen: cannot parse %s/stat", dir)
	}
	s.CPU = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	s.RSSKiB, _ = statusField(status, "VmRSS:")
	s.Threads, _ = statusField(status, "Threads:")
	return s, nil
}

// statusField reads a numeric field of /proc/PID/status ("VmRSS:   1234 kB").
func statusField(status []byte, name string) (int64, bool) {
	for line := range bytes.SplitSeq(status, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte(name)); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			v, err := strconv.ParseInt(string(f[0]), 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// cpuPercent is the CPU used between two samples as a percentage of one core.
func cpuPercent(a, b ProcSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.CPU-a.CPU) / float64(wall)
}

// CPUTimes is a reading of /proc/stat: for each CPU, the busy and total time in clock ticks.
type CPUTimes struct {
	Busy, Total []uint64
}

// SampleCPUs reads the per-CPU lines of /proc/stat.
func SampleCPUs() (CPUTimes, error) {
	var t CPUTimes
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t, err
	}
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) < 5 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		var busy, total uint64
		for i, v := range f[1:] {
			n, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return t, fmt.Errorf("loadgen: cannot parse /proc/stat: %q", line)
			}
			if i >= 8 { // guest time is already counted in user time
				break
			}
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		t.Busy = append(t.Busy, busy)
		t.Total = append(t.Total, total)
	}
	return t, nil
}

// busyPercent returns, per CPU, the share of time it was busy between two readings.
func busyPercent(a, b CPUTimes) []float64 {
	if len(a.Busy) != len(b.Busy) {
		return nil
	}
	out := make([]float64, len(a.Busy))
	for i := range out {
		if dt := b.Total[i] - a.Total[i]; dt > 0 {
			out[i] = 100 * float64(b.Busy[i]-a.Busy[i]) / float64(dt)
		}
	}
	return out
}
