import { useState } from "preact/hooks";
import { errorText } from "../api";
import { signIn, signUp } from "../auth";

/** Sign in or create an account; the browser session is a cookie. */
export function AuthPage() {
  const [mode, setMode] = useState<"in" | "up">("in");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      if (mode === "in") await signIn({ email, password });
      else await signUp(name.trim() ? { name: name.trim(), email, password } : { email, password });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <form class="card auth-card" onSubmit={submit}>
        <h1 class="brand brand-big">
          <img src="/favicon.svg" alt="" width="22" height="22" /> pizzapi
        </h1>
        <p class="muted">Watch and steer your coding agents from anywhere.</p>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === "in"} onClick={() => setMode("in")}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === "up"} onClick={() => setMode("up")}>
            Sign up
          </button>
        </div>
        {mode === "up" && (
          <label>
            Name
            <input autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Email
          <input type="email" required autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            required
            minLength={mode === "up" ? 8 : undefined}
            autocomplete={mode === "up" ? "new-password" : "current-password"}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && <p class="error">{error}</p>}
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {mode === "in" ? "Sign in" : "Create account"}
        </button>
      </form>
    </main>
  );
}
