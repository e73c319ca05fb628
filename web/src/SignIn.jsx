// Sign-in: paste an API token once; it is checked against the server before it is kept.
import { useState } from "react";
import { describeError, isUnauthorized, listModels } from "./api.js";

// A refused token, in the words of someone signing in: not "signed out or expired" (they were
// never in) and not the API's wording about cookies and query parameters, which the page never
// uses. chatd's own reason stays where it helps (an expired key, a suspended user).
const kSignedOut = "You are signed out";
function notAccepted(described) {
  const reason = described.title && !described.title.startsWith(kSignedOut) ? described.title : described.detail;
  const plain = reason && !/cookie|query parameter/i.test(reason);
  return {
    kind: "auth",
    title: "That token was not accepted.",
    detail: plain ? reason : "Paste the whole token as it was given to you, or ask an administrator for a new one.",
  };
}

export default function SignIn({ error: initialError, onSignedIn }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(initialError);
  const [checking, setChecking] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const token = value.trim();
    if (!token) {
      setError({ kind: "auth", title: "Paste an API token first.", detail: "" });
      return;
    }
    setChecking(true);
    setError(null);
    try {
      await listModels(token);
      onSignedIn(token);
    } catch (e) {
      setError(isUnauthorized(e) ? notAccepted(describeError(e)) : describeError(e));
      setChecking(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} noValidate>
        <h1>chatd</h1>
        <p className="hint">
          Sign in with an API token. An administrator creates one with{" "}
          <code>chatd tokens create --user NAME</code>.
        </p>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          autoFocus
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "signin-error" : undefined}
        />
        <button type="submit" className="button primary" disabled={checking}>
          {checking ? "Checking…" : "Sign in"}
        </button>
        {error && (
          <div className="error" role="alert" id="signin-error" data-testid="signin-error">
            <strong>{error.title}</strong>
            {error.detail && <span className="detail">{error.detail}</span>}
          </div>
        )}
        <p className="hint small">The token is kept in this browser only (local storage) until you sign out.</p>
      </form>
    </main>
  );
}
