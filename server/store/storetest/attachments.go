package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// attachment returns an attachment record expiring at t0 + expires.
func attachment(id string, expires time.Duration) store.Attachment {
	return store.Attachment{
		ID:        id,
		SessionID: "s1",
		UserID:    "u1",
		Filename:  id + ".png",
		MediaType: "image/png",
		Size:      1 << 20,
		Path:      "attachments/" + id,
		CreatedAt: t0,
		ExpiresAt: at(expires),
	}
}

func testAttachments(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1, a2, a3 := attachment("a1", time.Hour), attachment("a2", 2*time.Hour), attachment("a3", 3*time.Hour)
	for _, a := range []store.Attachment{a1, a2, a3} {
		must(t, "SaveAttachment "+a.ID, s.SaveAttachment(ctx, a))
	}
	wantErr(t, "SaveAttachment with a taken id", s.SaveAttachment(ctx, attachment("a1", 0)), store.ErrExists)
	_, err := s.Attachment(ctx, "unknown")
	wantErr(t, "Attachment unknown", err, store.ErrNotFound)

	// t0 lies in the past: these have expired by the clock and are still returned.
	for _, want := range []store.Attachment{a1, a2, a3} {
		got, err := s.Attachment(ctx, want.ID)
		must(t, "Attachment "+want.ID, err)
		check(t, "Attachment "+want.ID, want, got)
	}

	deleteExpired := func(now time.Time, want ...store.Attachment) {
		t.Helper()
		got, err := s.DeleteExpiredAttachments(ctx, now)
		must(t, "DeleteExpiredAttachments", err)
		slices.SortFunc(got, func(a, b store.Attachment) int { return cmp.Compare(a.ID, b.ID) })
		if len(got) == 0 {
			got = nil
		}
		check(t, "DeleteExpiredAttachments", want, got)
	}
	deleteExpired(at(time.Hour - time.Millisecond))
	deleteExpired(at(2*time.Hour), a1, a2)
	deleteExpired(at(2 * time.Hour))
	for _, id := range []string{"a1", "a2"} {
		_, err := s.Attachment(ctx, id)
		wantErr(t, "Attachment deleted "+id, err, store.ErrNotFound)
	}
	got, err := s.Attachment(ctx, "a3")
	must(t, "Attachment a3", err)
	check(t, "Attachment a3", a3, got)
}
