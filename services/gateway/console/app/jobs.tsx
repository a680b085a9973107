// Jobs: the latest fetch jobs with a progress bar and counters each, live while a job runs
// (the job's Server-Sent Events stream, which the session cookie authorises), and, for operators
// and admins, a form that starts a job for a client.
import { useEffect, useState } from "preact/hooks";
import { api, canRunJobs, type Session } from "./api.js";
import { label, TERMINAL, when, type FetchJob } from "./types.js";
import { ClientSelect, ErrorNote, messageOf, Page, useClients, useLoad } from "./ui.js";

/**
 * Browsers open at most 6 HTTP/1.1 connections to one host and an event stream holds one, so only
 * this many running jobs are watched live; the others are re-read every few seconds.
 */
const LIVE_STREAMS = 3;
const POLL_MS = 3_000;

export function JobsPage({ session }: { session: Session }) {
  const jobs = useLoad<{ jobs: FetchJob[] }>("/api/v1/jobs?page_size=20");
  const live = new Set(
    (jobs.data?.jobs ?? [])
      .filter((j) => !TERMINAL.has(j.status))
      .slice(0, LIVE_STREAMS)
      .map((j) => j.job_id),
  );
  return (
    <Page
      title="Jobs"
      actions={
        <button type="button" onClick={jobs.reload}>
          Refresh
        </button>
      }
    >
      {canRunJobs(session) ? <CreateJob onCreated={jobs.reload} /> : null}
      <ErrorNote error={jobs.error} />
      {jobs.data && jobs.data.jobs.length === 0 ? <p>No jobs yet.</p> : null}
      <ul class="cards">
        {jobs.data?.jobs.map((j) => (
          <JobCard key={j.job_id} initial={j} live={live.has(j.job_id)} />
        ))}
      </ul>
    </Page>
  );
}

function CreateJob({ onCreated }: { onCreated: () => void }) {
  const clients = useClients();
  const [clientId, setClientId] = useState("");
  const [mode, setMode] = useState("FETCH_MODE_INCREMENTAL");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const chosen = clientId || clients.data?.clients[0]?.id || "";
  // never rejects (it shows its own error), so the submit handler may start it and not wait
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api("POST", "/api/v1/review-fetch", { client_id: chosen, mode });
      onCreated();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={(e) => void submit(e)} aria-label="Start a fetch job">
      <label for="job-client">Client</label>
      <ClientSelect id="job-client" value={chosen} onChange={setClientId} clients={clients.data?.clients ?? []} />
      <label for="job-mode">Mode</label>
      <select id="job-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)}>
        <option value="FETCH_MODE_INCREMENTAL">Incremental</option>
        <option value="FETCH_MODE_FULL">Full</option>
      </select>
      <button type="submit" disabled={busy || !chosen}>
        Start job
      </button>
      <ErrorNote error={error ?? clients.error} />
    </form>
  );
}

function JobCard({ initial, live }: { initial: FetchJob; live: boolean }) {
  const [job, setJob] = useState(initial);
  const [streamError, setStreamError] = useState<string>();
  useEffect(() => setJob(initial), [initial]);
  const running = !TERMINAL.has(job.status);
  useEffect(() => {
    if (!running || live) return;
    const timer = setInterval(() => {
      api<{ job: FetchJob }>("GET", `/api/v1/jobs/${encodeURIComponent(job.job_id)}`).then(
        (answer) => setJob(answer.job),
        () => undefined,
      );
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [job.job_id, running, live]);
  useEffect(() => {
    if (!running || !live) return;
    // EventSource sends the session cookie (same origin); the gateway relays WatchFetchJob
    const events = new EventSource(`/api/v1/jobs/${encodeURIComponent(job.job_id)}/events`);
    events.addEventListener("job", (e) => setJob(JSON.parse((e as MessageEvent<string>).data) as FetchJob));
    events.addEventListener("end", () => events.close());
    events.addEventListener("error", (e) => {
      const data = (e as MessageEvent<string>).data;
      if (data) {
        // the server's own `event: error`: the stream ends after it
        setStreamError(String((JSON.parse(data) as { message?: string }).message ?? data));
        events.close();
      } else if (events.readyState === EventSource.CLOSED) {
        // refused (401 after sign-out elsewhere, 404): the browser gives up by itself
        setStreamError("Live updates stopped; press Refresh.");
      }
      // otherwise a dropped connection: EventSource reconnects on its own
    });
    return () => events.close();
  }, [job.job_id, running, live]);
  const c = job.counters;
  const total = Number(c?.tasks_total ?? 0);
  const done = Number(c?.tasks_done ?? 0);
  const percent =
    TERMINAL.has(job.status) && job.status === "JOB_STATUS_SUCCEEDED"
      ? 100
      : total > 0
        ? Math.min(100, Math.floor((done / total) * 100))
        : 0;
  const status = label(job.status, "JOB_STATUS_");
  return (
    <li class="card" data-job-id={job.job_id} data-status={status}>
      <h2>
        Job <code>{job.job_id.slice(0, 8)}</code>{" "}
        <span class={`badge job-${status}`} data-testid="job-status">
          {status}
        </span>
      </h2>
      <p class="muted">
        {label(job.trigger, "JOB_TRIGGER_")} · {label(job.mode, "FETCH_MODE_")} · started {when(job.create_time)}
        {job.end_time ? ` · ended ${when(job.end_time)}` : ""}
      </p>
      <div class="progress-line">
        <progress max={100} value={percent} aria-label={`Progress of job ${job.job_id}`} data-percent={percent} />
        <span class="percent" data-testid="job-percent">
          {percent} %
        </span>
      </div>
      {c ? (
        <dl class="counters">
          <div>
            <dt>Tasks</dt>
            <dd>
              {c.tasks_done} / {c.tasks_total}
            </dd>
          </div>
          <div>
            <dt>Locations</dt>
            <dd>{c.locations}</dd>
          </div>
          <div>
            <dt>Pages</dt>
            <dd>{c.pages}</dd>
          </div>
          <div>
            <dt>Reviews seen</dt>
            <dd>{c.reviews_seen}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{c.created}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{c.updated}</dd>
          </div>
          <div>
            <dt>Deleted</dt>
            <dd>{c.deleted}</dd>
          </div>
          <div>
            <dt>Retries</dt>
            <dd>{c.retries}</dd>
          </div>
          <div>
            <dt>Dead letters</dt>
            <dd>{c.dead_lettered}</dd>
          </div>
        </dl>
      ) : null}
      {job.error ? <p class="error">{job.error}</p> : null}
      <ErrorNote error={streamError} />
    </li>
  );
}
