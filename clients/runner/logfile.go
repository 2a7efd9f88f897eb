package runner

import (
	"fmt"
	"os"
	"sync"
)

// maxLogBytes bounds a worker's log file; the part before is kept as <file>.1.
const maxLogBytes = 8 << 20

// logFile is a log that starts over when it reaches limit bytes, keeping the previous part as
// path+".1", so a chatty worker uses at most twice limit on disk.
type logFile struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	size  int64
	limit int64
}

// openLog opens (appending) or creates a log file with mode 0600.
func openLog(path string, limit int64) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the worker log: %w", err)
	}
	l := &logFile{path: path, f: f, limit: limit}
	if fi, err := f.Stat(); err == nil {
		l.size = fi.Size()
	}
	return l, nil
}

// Write implements io.Writer. Write errors are dropped: a full disk must not stop the worker.
func (l *logFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return len(b), nil
	}
	if l.size > 0 && l.size+int64(len(b)) > l.limit {
		l.f.Close()
		_ = os.Rename(l.path, l.path+".1")
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o600)
		if err != nil {
			l.f = nil
			return len(b), nil
		}
		l.f, l.size = f, 0
	}
	n, _ := l.f.Write(b)
	l.size += int64(n)
	return len(b), nil
}

// Close closes the file.
func (l *logFile) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
