import type { rest } from "@pizzapi/protocol";
import { useEffect } from "preact/hooks";
import { errorText } from "./api";
import { loadUser, signOut, user } from "./auth";
import { connection, describe } from "./connection";
import { AuthPage } from "./pages/AuthPage";
import { SessionsPage } from "./pages/SessionsPage";
import { route, type Route } from "./router";
import { followHub } from "./sessions";
import { lazy } from "./ui/lazy";
import { Link } from "./ui/Link";

// Every page but the session list is a chunk of its own, loaded when first shown.
const SessionPage = lazy(() => import("./session/SessionPage").then((m) => m.SessionPage));
const RunnersPage = lazy(() => import("./pages/RunnersPage").then((m) => m.RunnersPage));
const RunnerPage = lazy(() => import("./pages/RunnerPage").then((m) => m.RunnerPage));
const TerminalPage = lazy(() => import("./pages/TerminalPage").then((m) => m.TerminalPage));
const AccountPage = lazy(() => import("./pages/AccountPage").then((m) => m.AccountPage));
const NotificationsPage = lazy(() => import("./push/NotificationsPage").then((m) => m.NotificationsPage));

export function App() {
  useEffect(() => {
    void loadUser();
  }, []);
  const u = user.value;
  if (u === undefined) return <p class="muted center">Loading…</p>;
  if (u === null) return <AuthPage />;
  return <Shell user={u} />;
}

/** The signed-in app: header, and the page of the current route. */
function Shell({ user }: { user: rest.User }) {
  useEffect(followHub, [user.id]);
  const r = route.value;
  return (
    <div class="app">
      <Header user={user} page={r.page} />
      <main class="main">
        <Page route={r} />
      </main>
    </div>
  );
}

function Page({ route: r }: { route: Route }) {
  switch (r.page) {
    case "sessions":
      return <SessionsPage />;
    case "session":
      return <SessionPage key={r.sessionId} sessionId={r.sessionId} />;
    case "runners":
      return <RunnersPage />;
    case "runner":
      return <RunnerPage key={r.runnerId} runnerId={r.runnerId} />;
    case "account":
      return <AccountPage />;
    case "terminal":
      return <TerminalPage key={r.terminalId} terminalId={r.terminalId} />;
    case "notifications":
      return <NotificationsPage />;
    case "notFound":
      return (
        <div class="page">
          <h1>Not found</h1>
          <p>
            Nothing lives at this address. <Link href="/">See your sessions</Link>.
          </p>
        </div>
      );
  }
}

function Header({ user, page }: { user: rest.User; page: Route["page"] }) {
  const tab = (href: string, label: string, active: boolean) => (
    <Link href={href} class={`nav-link${active ? " active" : ""}`}>
      {label}
    </Link>
  );
  return (
    <header class="topbar">
      <Link href="/" class="brand">
        <img src="/favicon.svg" alt="" width="22" height="22" /> pizzapi
      </Link>
      <nav class="nav">
        {tab("/", "Sessions", page === "sessions" || page === "session")}
        {tab("/runners", "Runners", page === "runners" || page === "runner" || page === "terminal")}
      </nav>
      <ConnectionIndicator />
      <Link href="/notifications" class={`nav-link nav-notifications${page === "notifications" ? " active" : ""}`}>
        Notifications
      </Link>
      <Link href="/account" class={`nav-link user${page === "account" ? " active" : ""}`}>
        <span class="sr-only">Account of </span>
        {user.name}
      </Link>
      <button type="button" class="btn btn-quiet sign-out" onClick={() => signOut().catch((e: unknown) => alert(errorText(e)))}>
        Sign out
      </button>
    </header>
  );
}

function ConnectionIndicator() {
  const link = connection.value;
  const state = link?.state ?? "online";
  return (
    <span class={`conn conn-${state}`} role="status" title={describe(link)}>
      <span class="dot" aria-hidden="true" />
      <span class="conn-label">{describe(link)}</span>
    </span>
  );
}
