// Stages: the three fetch stages with their queue depths; admins pause and resume them.
import { useState } from "preact/hooks";
import { api, isAdmin, type Session } from "./api.js";
import { label, type StageState } from "./types.js";
import { ErrorNote, messageOf, Page, useLoad } from "./ui.js";

export function StagesPage({ session }: { session: Session }) {
  const stages = useLoad<{ stages: StageState[] }>("/api/v1/stages");
  const [error, setError] = useState<string>();
  // never rejects (it shows its own error), so the click handlers may start it and not wait
  const act = async (stage: string, action: "pause" | "resume") => {
    setError(undefined);
    try {
      await api("POST", `/api/v1/stages/${stage}/${action}`);
      stages.reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <Page
      title="Stages"
      actions={
        <button type="button" onClick={stages.reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={stages.error ?? error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">State</th>
              <th scope="col">Waiting</th>
              <th scope="col">In flight</th>
              {isAdmin(session) ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {stages.data?.stages.map((s) => {
              const name = label(s.stage, "STAGE_");
              return (
                <tr key={s.stage} data-stage={name}>
                  <td data-label="Stage">{name}</td>
                  <td data-label="State">{s.paused ? "paused" : "running"}</td>
                  <td data-label="Waiting">{s.pending}</td>
                  <td data-label="In flight">{s.ack_pending}</td>
                  {isAdmin(session) ? (
                    <td data-label="Action">
                      {s.paused ? (
                        <button type="button" onClick={() => void act(name, "resume")}>
                          Resume {name}
                        </button>
                      ) : (
                        <button type="button" onClick={() => void act(name, "pause")}>
                          Pause {name}
                        </button>
                      )}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Page>
  );
}
