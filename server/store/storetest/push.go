package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// pushStore returns s as a store.PushStore: every store keeps the Web Push data too.
func pushStore(t *testing.T, s store.Store) store.PushStore {
	t.Helper()
	ps, ok := s.(store.PushStore)
	if !ok {
		t.Fatalf("%T does not implement store.PushStore", s)
	}
	return ps
}

// subscription returns a push subscription of user created at t0 + created.
func subscription(id, user, endpoint string, created time.Duration) store.PushSubscription {
	return store.PushSubscription{
		ID: id, UserID: user, Endpoint: endpoint, P256DH: "p256dh-" + id, Auth: "auth-" + id,
		EnabledEvents: "*", CreatedAt: at(created),
	}
}

func testPushSubscriptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ps := pushStore(t, s)
	createUsers(t, s, user("u1", "alice@example.com"), user("u2", "bob@example.com"))
	const max = 3

	wantErr(t, "SavePushSubscription for an unknown user", ps.SavePushSubscription(ctx, subscription("x", "nobody", "https://push.example/x", 0), max), store.ErrNotFound)
	a := subscription("a", "u1", "https://push.example/a", 0)
	b := subscription("b", "u1", "https://push.example/b", time.Second)
	shared := subscription("c", "u2", "https://push.example/a", 0) // the same browser, another user
	for _, p := range []store.PushSubscription{a, b, shared} {
		must(t, "SavePushSubscription "+p.ID, ps.SavePushSubscription(ctx, p, max))
	}
	list := func(userID string, want ...store.PushSubscription) {
		t.Helper()
		got, err := ps.PushSubscriptions(ctx, userID)
		must(t, "PushSubscriptions "+userID, err)
		if len(got) == 0 {
			got = nil
		}
		check(t, "PushSubscriptions "+userID, want, got)
	}
	list("u1", a, b)
	list("u2", shared)
	list("nobody")

	// Subscribing again from the same browser replaces the row: new id, keys and time.
	a2 := subscription("a2", "u1", a.Endpoint, 2*time.Second)
	a2.EnabledEvents = "agent_finished"
	must(t, "SavePushSubscription again", ps.SavePushSubscription(ctx, a2, max))
	list("u1", b, a2)
	list("u2", shared)

	ok, err := ps.SetPushEvents(ctx, "u1", b.Endpoint, "agent_error,agent_needs_input")
	must(t, "SetPushEvents", err)
	if !ok {
		t.Error("SetPushEvents of a known endpoint reports none")
	}
	b.EnabledEvents = "agent_error,agent_needs_input"
	if ok, err := ps.SetPushEvents(ctx, "u2", b.Endpoint, "*"); err != nil || ok {
		t.Errorf("SetPushEvents of another user's endpoint = %v, %v; want false", ok, err)
	}
	list("u1", b, a2)

	// The user keeps the newest max subscriptions.
	d := subscription("d", "u1", "https://push.example/d", 3*time.Second)
	e := subscription("e", "u1", "https://push.example/e", 4*time.Second)
	must(t, "SavePushSubscription d", ps.SavePushSubscription(ctx, d, max))
	must(t, "SavePushSubscription e", ps.SavePushSubscription(ctx, e, max))
	list("u1", a2, d, e)

	if ok, err := ps.DeletePushSubscription(ctx, "u2", d.Endpoint); err != nil || ok {
		t.Errorf("DeletePushSubscription of another user's endpoint = %v, %v; want false", ok, err)
	}
	ok, err = ps.DeletePushSubscription(ctx, "u1", d.Endpoint)
	must(t, "DeletePushSubscription", err)
	if !ok {
		t.Error("DeletePushSubscription of a known endpoint reports none")
	}
	if ok, err := ps.DeletePushSubscription(ctx, "u1", d.Endpoint); err != nil || ok {
		t.Errorf("DeletePushSubscription again = %v, %v; want false", ok, err)
	}
	must(t, "DeletePushSubscriptionByID", ps.DeletePushSubscriptionByID(ctx, "a2"))
	must(t, "DeletePushSubscriptionByID unknown", ps.DeletePushSubscriptionByID(ctx, "a2"))
	list("u1", e)
	list("u2", shared)
}

func testVAPIDKeys(t *testing.T, s store.Store) {
	ps := pushStore(t, s)
	const nodes = 4
	got := make([]store.VAPIDKeys, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			k := store.VAPIDKeys{PublicKey: "public-" + string(rune('a'+i)), PrivateKey: "private-" + string(rune('a'+i)), CreatedAt: at(time.Duration(i) * time.Second)}
			got[i], errs[i] = ps.EnsureVAPIDKeys(t.Context(), k)
		})
	}
	wg.Wait()
	for i := range nodes {
		must(t, "EnsureVAPIDKeys", errs[i])
		check(t, "EnsureVAPIDKeys of each node", got[0], got[i])
	}
	if got[0].PublicKey[len("public-"):] != got[0].PrivateKey[len("private-"):] {
		t.Errorf("the stored pair mixes two nodes' keys: %+v", got[0])
	}
	again, err := ps.EnsureVAPIDKeys(t.Context(), store.VAPIDKeys{PublicKey: "later", PrivateKey: "later", CreatedAt: at(time.Hour)})
	must(t, "EnsureVAPIDKeys after", err)
	check(t, "EnsureVAPIDKeys after", got[0], again)
}
