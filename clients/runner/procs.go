package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// signalGroup sends sig to the process group pgid.
func signalGroup(pgid int, sig syscall.Signal) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, sig)
	}
}

// processGroups lists the process groups that have a live (not zombie) process for which
// keep(pgrp, session) holds, from /proc.
func processGroups(keep func(pgrp, session int) bool) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	seen := map[int]bool{}
	var out []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may contain spaces and parentheses.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 4 || f[0] == "Z" {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		session, _ := strconv.Atoi(f[3])
		if pgrp > 0 && !seen[pgrp] && keep(pgrp, session) {
			seen[pgrp] = true
			out = append(out, pgrp)
		}
	}
	return out
}

// group lists the process group pgid while it has live processes.
func group(pgid int) func() []int {
	return func() []int { return processGroups(func(pgrp, _ int) bool { return pgrp == pgid }) }
}

// session lists the process groups of session sid: a terminal's shell and the jobs it started,
// which a job-control shell puts in groups of their own.
func session(sid int) func() []int {
	return func() []int { return processGroups(func(_, s int) bool { return s == sid }) }
}

// stopProcesses sends polite to the process groups list returns, and SIGKILL to those still
// there after grace. It returns when they are gone, or a second after SIGKILL for processes that
// cannot even be killed (stuck in the kernel).
func stopProcesses(list func() []int, polite syscall.Signal, grace time.Duration) {
	for _, g := range list() {
		signalGroup(g, polite)
	}
	killAt := time.Now().Add(grace)
	killed := false
	for groups := list(); len(groups) > 0; groups = list() {
		switch now := time.Now(); {
		case !killed && now.After(killAt):
			for _, g := range groups {
				signalGroup(g, syscall.SIGKILL)
			}
			killed = true
		case killed && now.After(killAt.Add(time.Second)):
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
