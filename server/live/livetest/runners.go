package livetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/live"
)

// RunRunners runs the suite of RunnerStore, as RunSessions does.
func RunRunners(t *testing.T, open func(t *testing.T) live.RunnerStore) {
	suite(t, open, []testCase[live.RunnerStore]{
		{"Runners", testRunners},
		{"RunnerCopies", testRunnerCopies},
		{"UserRunners", testUserRunners},
	})
}

func fullRunner(id, user, conn string, connected time.Time) *live.Runner {
	return &live.Runner{
		ID: id, UserID: user, UserName: "name of " + user, Name: "runner " + id,
		Roots:       []string{"/home/" + user, "/srv"},
		Skills:      []protocol.RunnerSkill{{Name: "deploy", Description: "Deploys", FilePath: "/skills/deploy.md"}},
		Conn:        conn,
		ConnectedAt: connected,
	}
}

func testRunners(t *testing.T, st live.RunnerStore) {
	ctx := t.Context()
	if _, err := st.Runner(ctx, "nope"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("unknown runner: %v", err)
	}
	if err := st.SetRunnerSkills(ctx, "nope", nil); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("SetRunnerSkills on an unknown runner: %v", err)
	}
	if deleted, err := st.DeleteRunner(ctx, "nope", ""); err != nil || deleted {
		t.Fatalf("deleting an unknown runner: %v %v", deleted, err)
	}
	r := fullRunner("r", "u", "c1", t0)
	checkAllFieldsSet(t, r)
	must(t, st.PutRunner(ctx, r))
	got, err := st.Runner(ctx, "r")
	must(t, err)
	same(t, "runner", got, r)

	skills := []protocol.RunnerSkill{{Name: "a", Description: "A", FilePath: "/a"}, {Name: "b", Description: "B", FilePath: "/b"}}
	must(t, st.SetRunnerSkills(ctx, "r", skills))
	got, _ = st.Runner(ctx, "r")
	want := fullRunner("r", "u", "c1", t0)
	want.Skills = skills
	same(t, "runner with new skills", got, want)
	must(t, st.SetRunnerSkills(ctx, "r", nil))
	got, _ = st.Runner(ctx, "r")
	if len(got.Skills) != 0 {
		t.Fatalf("skills not cleared: %v", got.Skills)
	}

	// The runner registers again on another connection: the old one's disconnect is stale.
	must(t, st.PutRunner(ctx, fullRunner("r", "u", "c2", t0.Add(time.Minute))))
	got, _ = st.Runner(ctx, "r")
	same(t, "re-registered runner", got, fullRunner("r", "u", "c2", t0.Add(time.Minute)))
	if deleted, err := st.DeleteRunner(ctx, "r", "c1"); err != nil || deleted {
		t.Fatalf("a stale connection removed the runner: %v %v", deleted, err)
	}
	if _, err := st.Runner(ctx, "r"); err != nil {
		t.Fatalf("runner gone after a stale delete: %v", err)
	}
	if deleted, err := st.DeleteRunner(ctx, "r", "c2"); err != nil || !deleted {
		t.Fatalf("the runner's connection could not remove it: %v %v", deleted, err)
	}
	if _, err := st.Runner(ctx, "r"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("runner after delete: %v", err)
	}
	if deleted, _ := st.DeleteRunner(ctx, "r", "c2"); deleted {
		t.Fatal("deleted twice")
	}
	// "" removes it whatever its connection.
	must(t, st.PutRunner(ctx, fullRunner("r", "u", "c3", t0)))
	if deleted, err := st.DeleteRunner(ctx, "r", ""); err != nil || !deleted {
		t.Fatalf("delete with no connection: %v %v", deleted, err)
	}
	if list, _ := st.UserRunners(ctx, "u"); len(list) != 0 {
		t.Fatalf("deleted runner still listed: %v", list)
	}
}

func testRunnerCopies(t *testing.T, st live.RunnerStore) {
	ctx := t.Context()
	in := fullRunner("r", "u", "c", t0)
	must(t, st.PutRunner(ctx, in))
	in.Roots[0], in.Skills[0].Name, in.Name = "/changed", "changed", "changed"
	got, _ := st.Runner(ctx, "r")
	same(t, "runner after changing the value given", got, fullRunner("r", "u", "c", t0))
	got.Roots[0], got.Skills[0].Name, got.Conn = "/changed", "changed", "changed"
	again, _ := st.Runner(ctx, "r")
	same(t, "runner after changing a returned copy", again, fullRunner("r", "u", "c", t0))
	list, _ := st.UserRunners(ctx, "u")
	list[0].Roots[1] = "/changed"
	again, _ = st.Runner(ctx, "r")
	same(t, "runner after changing a listed copy", again, fullRunner("r", "u", "c", t0))
	skills := []protocol.RunnerSkill{{Name: "x"}}
	must(t, st.SetRunnerSkills(ctx, "r", skills))
	skills[0].Name = "changed"
	again, _ = st.Runner(ctx, "r")
	if again.Skills[0].Name != "x" {
		t.Fatalf("SetRunnerSkills kept the caller's slice: %v", again.Skills)
	}
}

func testUserRunners(t *testing.T, st live.RunnerStore) {
	ctx := t.Context()
	if list, err := st.UserRunners(ctx, "u1"); err != nil || len(list) != 0 {
		t.Fatalf("empty store: %v %v", list, err)
	}
	// Put out of connection order; listed by connection time.
	for i, u := range []string{"u1", "u2", "u1", "u1"} {
		connected := t0.Add(time.Duration(10-i) * time.Minute)
		must(t, st.PutRunner(ctx, fullRunner(fmt.Sprint("r", i), u, "c", connected)))
	}
	list, err := st.UserRunners(ctx, "u1")
	must(t, err)
	var got []string
	for _, r := range list {
		got = append(got, r.ID)
		same(t, "listed runner", r, fullRunner(r.ID, "u1", "c", r.ConnectedAt))
	}
	if fmt.Sprint(got) != "[r3 r2 r0]" {
		t.Fatalf("UserRunners(u1): %v", got)
	}
	// A runner id registered again by another user moves to that user.
	must(t, st.PutRunner(ctx, fullRunner("r2", "u2", "c", t0)))
	list, _ = st.UserRunners(ctx, "u1")
	if len(list) != 2 {
		t.Fatalf("u1 lists %d runners after r2 moved", len(list))
	}
	list, _ = st.UserRunners(ctx, "u2")
	if len(list) != 2 {
		t.Fatalf("u2 lists %d runners", len(list))
	}
}
