package wstransport

// PollingSessions returns how many polling sessions have a raised limit recorded.
func PollingSessions(l *Limits) int {
	n := 0
	l.polling.Range(func(any, any) bool { n++; return true })
	return n
}
