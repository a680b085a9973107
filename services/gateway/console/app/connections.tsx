// Connections: the tenant's clients and whether each is connected to Google. A client that is not
// connected (or needs re-consent) gets a button that makes a one-time login link (StartOAuth's
// login_url) to send to the business.
import { useEffect, useState } from "preact/hooks";
import { api, canWrite, type Session } from "./api.js";
import type { Client } from "./types.js";
import { label } from "./types.js";
import { ErrorNote, messageOf, Page, useClients } from "./ui.js";

interface Status {
  status: string;
  reason: string;
}

export function ConnectionsPage({ session }: { session: Session }) {
  const clients = useClients();
  return (
    <Page
      title="Connections"
      actions={
        <button type="button" onClick={clients.reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={clients.error} />
      {clients.data && clients.data.clients.length === 0 ? <p>No clients yet.</p> : null}
      <ul class="cards">
        {clients.data?.clients.map((c) => (
          <ClientCard key={c.id} client={c} session={session} />
        ))}
      </ul>
    </Page>
  );
}

function ClientCard({ client, session }: { client: Client; session: Session }) {
  const [status, setStatus] = useState<Status>();
  const [error, setError] = useState<string>();
  const [link, setLink] = useState<string>();
  useEffect(() => {
    api<Status>("GET", `/clients/${encodeURIComponent(client.id)}/connection`).then(setStatus, (e: unknown) => setError(messageOf(e)));
  }, [client.id]);
  const needsConsent = status && status.status !== "CONNECTION_STATUS_CONNECTED";
  // never rejects (it shows its own error), so the click handler may start it and not wait
  const makeLink = async () => {
    setError(undefined);
    try {
      const answer = await api<{ login_url: string }>("GET", `/oauth/start/${encodeURIComponent(client.id)}`);
      setLink(answer.login_url);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const statusText = status ? label(status.status, "CONNECTION_STATUS_") : "checking…";
  return (
    <li class="card" data-client-id={client.id}>
      <h2>{client.name || client.id}</h2>
      <p class="muted">
        Client id <code>{client.id}</code>
      </p>
      <p>
        Status:{" "}
        <span
          class={`badge status-${status ? label(status.status, "CONNECTION_STATUS_").replaceAll(" ", "-") : "unknown"}`}
          data-testid="connection-status"
        >
          {statusText}
        </span>
        {status?.reason ? <span class="muted"> — {status.reason}</span> : null}
      </p>
      {needsConsent && canWrite(session) ? (
        <button type="button" onClick={() => void makeLink()}>
          Make a login link for the business
        </button>
      ) : null}
      {link ? (
        <p>
          <label for={`link-${client.id}`}>One-time login link (valid 30 minutes; send it to the business):</label>
          <input
            id={`link-${client.id}`}
            class="link"
            type="text"
            readOnly
            value={link}
            onFocus={(e) => (e.target as HTMLInputElement).select()}
          />
        </p>
      ) : null}
      <ErrorNote error={error} />
    </li>
  );
}
