// Locations of a client with their freshness: when the scheduler last looked, the newest review
// seen, when the next pass is due (GET /api/v1/locations?client_id=).
import { useState } from "preact/hooks";
import { query } from "./api.js";
import type { LocationFreshness } from "./types.js";
import { when } from "./types.js";
import { ClientSelect, ErrorNote, Page, useClients, useLoad } from "./ui.js";

export function LocationsPage() {
  const clients = useClients();
  const [clientId, setClientId] = useState("");
  const chosen = clientId || clients.data?.clients[0]?.id || "";
  const locations = useLoad<{ locations: LocationFreshness[] }>(
    chosen ? `/api/v1/locations${query({ client_id: chosen, page_size: 500 })}` : undefined,
  );
  return (
    <Page
      title="Locations"
      actions={
        <button type="button" onClick={locations.reload}>
          Refresh
        </button>
      }
    >
      <div class="filters">
        <label for="locations-client">Client</label>
        <ClientSelect id="locations-client" value={chosen} onChange={setClientId} clients={clients.data?.clients ?? []} />
      </div>
      <ErrorNote error={clients.error ?? locations.error} />
      {locations.data && locations.data.locations.length === 0 ? <p>No locations seen for this client yet: run a job.</p> : null}
      {locations.data && locations.data.locations.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Location</th>
                <th scope="col">Reviews</th>
                <th scope="col">Last pass</th>
                <th scope="col">Newest review</th>
                <th scope="col">Next due</th>
                <th scope="col">Fresh?</th>
              </tr>
            </thead>
            <tbody>
              {locations.data.locations.map((l) => (
                <tr key={l.location_id}>
                  <td data-label="Location">
                    {l.title || l.google_name}
                    <br />
                    <span class="muted">{l.google_name}</span>
                  </td>
                  <td data-label="Reviews">{l.review_count}</td>
                  <td data-label="Last pass">{when(l.last_pass_time)}</td>
                  <td data-label="Newest review">{when(l.newest_update_time)}</td>
                  <td data-label="Next due">{when(l.next_due_time)}</td>
                  <td data-label="Fresh?">
                    {l.overdue ? <span class="badge status-needs-reauth">overdue</span> : <span class="badge status-connected">fresh</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
