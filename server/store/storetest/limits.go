package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// testSeqReserved: the reserved sequence number only grows, survives a re-registration of the
// session (SaveRelaySession), and is ErrNotFound for an unknown session.
func testSeqReserved(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := session("s1", "u1", 0, nil)
	saveSessions(t, s, want)
	checkSession(t, "new session", s, want)

	must(t, "ReserveRelaySessionSeq 2000", s.ReserveRelaySessionSeq(ctx, "s1", 2000))
	want.SeqReserved = 2000
	checkSession(t, "reserved", s, want)
	must(t, "ReserveRelaySessionSeq 1500", s.ReserveRelaySessionSeq(ctx, "s1", 1500))
	checkSession(t, "a lower reservation", s, want)

	again := session("s1", "u1", time.Minute, nil)
	saveSessions(t, s, again)
	again.SeqReserved = 2000
	checkSession(t, "registered again", s, again)

	wantErr(t, "ReserveRelaySessionSeq unknown", s.ReserveRelaySessionSeq(ctx, "unknown", 1), store.ErrNotFound)
}

// testAttachmentQuota: an upload is stored whole or not at all, expired attachments do not count,
// and concurrent uploads of one user never add up to more than the quota.
func testAttachmentQuota(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(0)
	sized := func(id, user string, size int64, expires time.Duration) store.Attachment {
		a := attachment(id, expires)
		a.UserID, a.Size = user, size
		return a
	}
	used := func(user string, want int64) {
		t.Helper()
		got, err := s.AttachmentBytes(ctx, user, now)
		must(t, "AttachmentBytes", err)
		if got != want {
			t.Errorf("AttachmentBytes(%s) = %d, want %d", user, got, want)
		}
	}
	must(t, "SaveAttachment expired", s.SaveAttachment(ctx, sized("old", "u1", 900, -time.Minute)))
	must(t, "SaveAttachments", s.SaveAttachments(ctx, "u1", []store.Attachment{sized("a1", "u1", 400, time.Hour), sized("a2", "u1", 300, time.Hour)}, 1000, now))
	used("u1", 700)
	err := s.SaveAttachments(ctx, "u1", []store.Attachment{sized("a3", "u1", 200, time.Hour), sized("a4", "u1", 200, time.Hour)}, 1000, now)
	wantErr(t, "SaveAttachments over the quota", err, store.ErrQuota)
	_, err = s.Attachment(ctx, "a3")
	wantErr(t, "Attachment of a refused upload", err, store.ErrNotFound)
	used("u1", 700)
	must(t, "SaveAttachments to the quota", s.SaveAttachments(ctx, "u1", []store.Attachment{sized("a5", "u1", 300, time.Hour)}, 1000, now))
	must(t, "SaveAttachments of another user", s.SaveAttachments(ctx, "u2", []store.Attachment{sized("b1", "u2", 1000, time.Hour)}, 1000, now))
	must(t, "SaveAttachments without a quota", s.SaveAttachments(ctx, "u2", []store.Attachment{sized("b2", "u2", 5000, time.Hour)}, 0, now))
	used("u1", 1000)
	used("u2", 6000)

	// Ten uploads of 100 bytes at once against a quota with room for four.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.SaveAttachments(ctx, "u3", []store.Attachment{sized(fmt.Sprintf("c%d", i), "u3", 100, time.Hour)}, 400, now)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !isQuota(err) {
			t.Errorf("concurrent SaveAttachments: %v", err)
		}
	}
	if ok != 4 {
		t.Errorf("%d of 10 concurrent uploads were stored against a quota for 4", ok)
	}
	used("u3", 400)
}

func isQuota(err error) bool { return errors.Is(err, store.ErrQuota) }
