package share

import (
	"fmt"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/piext"
)

// TestResumePage: list_resume_sessions pages through the saved sessions with limit and cursor,
// bounds the page size, and refuses a cursor it did not give.
func TestResumePage(t *testing.T) {
	sessions := make([]piext.SavedSession, 5)
	for i := range sessions {
		sessions[i] = piext.SavedSession{ID: fmt.Sprint(i), Path: fmt.Sprintf("/s/%d.jsonl", i)}
	}
	ids := func(ss []piext.SavedSession) string {
		out := ""
		for _, s := range ss {
			out += s.ID
		}
		return out
	}
	var got string
	cursor := ""
	for {
		p := &commands.ListResumeSessionsParams{Limit: protocol.Some[int64](2)}
		if cursor != "" {
			p.Cursor = protocol.Some(cursor)
		}
		page, next, err := resumePage(sessions, p)
		if err != nil {
			t.Fatal(err)
		}
		got += ids(page) + "|"
		if next == nil {
			break
		}
		cursor = *next
	}
	if got != "01|23|4|" {
		t.Errorf("pages: %s", got)
	}
	if page, next, err := resumePage(sessions, &commands.ListResumeSessionsParams{}); err != nil || ids(page) != "01234" || next != nil {
		t.Errorf("default page: %s %v %v", ids(page), next, err)
	}
	if page, _, _ := resumePage(sessions, &commands.ListResumeSessionsParams{Limit: protocol.Some[int64](0)}); len(page) != 1 {
		t.Errorf("a limit of 0 gives %d sessions", len(page))
	}
	for _, c := range []string{"x", "-1"} {
		if _, _, err := resumePage(sessions, &commands.ListResumeSessionsParams{Cursor: protocol.Some(c)}); err == nil {
			t.Errorf("cursor %q accepted", c)
		}
	}
	if page, next, err := resumePage(sessions, &commands.ListResumeSessionsParams{Cursor: protocol.Some("9")}); err != nil || len(page) != 0 || next != nil {
		t.Errorf("cursor past the end: %d %v %v", len(page), next, err)
	}
}
