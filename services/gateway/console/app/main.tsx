// The operator console: sign in with an API key (exchanged for a session cookie), then pages over
// the REST API. Routing is by #fragment so the gateway serves one page; the session decides which
// buttons show (the server enforces the same roles regardless).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, useSession, type Session } from "./api.js";
import { ConnectionsPage } from "./connections.js";
import { DeadLettersPage } from "./dead-letters.js";
import { JobsPage } from "./jobs.js";
import { LocationsPage } from "./locations.js";
import { ReviewsPage } from "./reviews.js";
import { StagesPage } from "./stages.js";
import { ErrorNote, messageOf } from "./ui.js";

const PAGES = [
  { path: "connections", title: "Connections" },
  { path: "locations", title: "Locations" },
  { path: "jobs", title: "Jobs" },
  { path: "dead-letters", title: "Dead letters" },
  { path: "stages", title: "Stages" },
  { path: "reviews", title: "Reviews" },
] as const;
type PagePath = (typeof PAGES)[number]["path"];

function currentPage(): PagePath {
  const name = location.hash.replace(/^#\/?/, "");
  return PAGES.find((p) => p.path === name)?.path ?? "connections";
}

function App() {
  const [session, setSession] = useState<Session | null>();
  const [page, setPage] = useState<PagePath>(currentPage());
  useSession(session ?? undefined, () => setSession(null));
  useEffect(() => {
    api<Session>("GET", "/console/session").then(setSession, () => setSession(null));
    const onHash = () => setPage(currentPage());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.title = `reviewflow · ${PAGES.find((p) => p.path === page)?.title ?? ""}`;
    // move focus to the new page's heading, so keyboard and screen-reader users land on it
    document.getElementById("page-title")?.focus();
  }, [page, session]);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  // never rejects (a failed DELETE still signs out here), so the click handler need not wait
  const signOut = async () => {
    await api("DELETE", "/console/session").catch(() => undefined);
    setSession(null);
  };
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">reviewflow</span>
        <nav aria-label="Console pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p.path === page ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {session.role}
          {session.tenant_id ? ` · tenant ${session.tenant_id.slice(0, 8)}` : " · all tenants"}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {page === "connections" ? <ConnectionsPage session={session} /> : null}
        {page === "locations" ? <LocationsPage /> : null}
        {page === "jobs" ? <JobsPage session={session} /> : null}
        {page === "dead-letters" ? <DeadLettersPage session={session} /> : null}
        {page === "stages" ? <StagesPage session={session} /> : null}
        {page === "reviews" ? <ReviewsPage /> : null}
      </main>
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // never rejects (it shows its own error), so the submit handler may start it and not wait
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api<Session>("POST", "/console/session", { api_key: key }));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>reviewflow console</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api_key"
          type="password"
          autoComplete="off"
          autoFocus
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorNote error={error} />
      </form>
      <p class="muted">
        The key stays on this page: the gateway exchanges it for a session that ends when you sign out or when it expires (an hour by
        default).
      </p>
    </main>
  );
}

render(<App />, document.getElementById("app")!);
