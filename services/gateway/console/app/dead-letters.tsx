// Dead letters: tasks that failed for good, with Google's reason, and a replay button for the
// roles the API lets replay (admin, operator). The server refuses anyone else regardless.
import { useState } from "preact/hooks";
import { api, canRunJobs, type Session } from "./api.js";
import { label, when, type DeadLetter } from "./types.js";
import { ErrorNote, messageOf, Page, useLoad } from "./ui.js";

export function DeadLettersPage({ session }: { session: Session }) {
  const letters = useLoad<{ dead_letters: DeadLetter[] }>("/api/v1/dead-letters?page_size=100");
  const [error, setError] = useState<string>();
  // never rejects (it shows its own error), so the click handler may start it and not wait
  const replay = async (id: string) => {
    setError(undefined);
    try {
      await api("POST", `/api/v1/dead-letters/${encodeURIComponent(id)}/replay`);
      letters.reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <Page
      title="Dead letters"
      actions={
        <button type="button" onClick={letters.reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={letters.error ?? error} />
      {letters.data && letters.data.dead_letters.length === 0 ? <p>No dead letters.</p> : null}
      <ul class="cards">
        {letters.data?.dead_letters.map((d) => (
          <li key={d.id} class="card" data-dead-letter-id={d.id}>
            <h2>
              {label(d.stage, "STAGE_")} task · {d.error_code || "error"}
              {d.http_status ? ` (HTTP ${d.http_status})` : ""}
            </h2>
            <p class="reason">{d.error_message}</p>
            <p class="muted">
              Resource <code>{d.resource}</code> · job <code>{d.job_id.slice(0, 8)}</code> · {d.attempts}{" "}
              {d.attempts === 1 ? "attempt" : "attempts"} · failed {when(d.fail_time)}
            </p>
            {d.replay_time ? (
              <p class="badge status-connected">replayed {when(d.replay_time)}</p>
            ) : canRunJobs(session) ? (
              <button type="button" onClick={() => void replay(d.id)}>
                Replay
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </Page>
  );
}
