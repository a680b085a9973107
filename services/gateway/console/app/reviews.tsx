// Reviews with filters. Location, minimum rating and "updated after" are filtered by the server
// (ListReviews); the API has no text search, so the text filter narrows the page already loaded
// (the newest 200 matching reviews), which the page says. A review's versions open below it.
import { useState } from "preact/hooks";
import { query } from "./api.js";
import { label, when, type ReviewVersion, type StoredReview } from "./types.js";
import { ClientSelect, ErrorNote, Page, useClients, useLoad } from "./ui.js";

const PAGE_SIZE = 200;

export function ReviewsPage() {
  const clients = useClients();
  const [clientId, setClientId] = useState("");
  const [location, setLocation] = useState("");
  const [rating, setRating] = useState("0");
  const [after, setAfter] = useState("");
  const [text, setText] = useState("");
  const [open, setOpen] = useState<string>();
  const afterIso = after && !Number.isNaN(new Date(after).getTime()) ? new Date(after).toISOString() : "";
  const path = `/api/v1/reviews${query({ client_id: clientId, location_id: location.trim(), min_rating: rating === "0" ? undefined : rating, updated_after: afterIso, page_size: PAGE_SIZE })}`;
  const reviews = useLoad<{ reviews: StoredReview[] }>(path);
  const needle = text.trim().toLowerCase();
  const shown = (reviews.data?.reviews ?? []).filter(
    (r) =>
      !needle ||
      (r.review?.comment ?? "").toLowerCase().includes(needle) ||
      (r.review?.reviewer?.display_name ?? "").toLowerCase().includes(needle),
  );
  return (
    <Page
      title="Reviews"
      actions={
        <button type="button" onClick={reviews.reload}>
          Refresh
        </button>
      }
    >
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter reviews">
        <label for="reviews-client">Client</label>
        <ClientSelect id="reviews-client" value={clientId} onChange={setClientId} clients={clients.data?.clients ?? []} allowAll />
        <label for="reviews-location">Location id</label>
        <input
          id="reviews-location"
          type="text"
          value={location}
          placeholder="any"
          onChange={(e) => setLocation((e.target as HTMLInputElement).value)}
        />
        <label for="reviews-rating">At least</label>
        <select id="reviews-rating" value={rating} onChange={(e) => setRating((e.target as HTMLSelectElement).value)}>
          <option value="0">any rating</option>
          {[1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={String(n)}>
              {n} ★
            </option>
          ))}
        </select>
        <label for="reviews-after">Updated after</label>
        <input id="reviews-after" type="datetime-local" value={after} onChange={(e) => setAfter((e.target as HTMLInputElement).value)} />
        <label for="reviews-text">Text contains</label>
        <input id="reviews-text" type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      </form>
      <p class="muted">
        Location, rating and date are filtered by the server; the text filter searches the {PAGE_SIZE} newest matching reviews loaded here.
      </p>
      <ErrorNote error={reviews.error ?? clients.error} />
      {reviews.data && shown.length === 0 ? <p>No reviews match.</p> : null}
      <ul class="cards">
        {shown.map((r) => {
          const review = r.review;
          if (!review) return null;
          return (
            <li key={review.name} class="card review" data-review-name={review.name}>
              <h2>
                <span aria-label={`${review.star_rating} stars`}>
                  {"★".repeat(review.star_rating)}
                  {"☆".repeat(Math.max(0, 5 - review.star_rating))}
                </span>{" "}
                {review.reviewer?.display_name || "Anonymous"}
              </h2>
              <p class="comment">{review.comment ?? <em class="muted">rating only</em>}</p>
              {review.reply ? (
                <p class="reply">
                  <strong>Reply:</strong> {review.reply.comment}
                </p>
              ) : null}
              <p class="muted">
                Updated {when(review.update_time)} · location <code>{r.location_id}</code>
              </p>
              <button
                type="button"
                aria-expanded={open === review.name}
                onClick={() => setOpen(open === review.name ? undefined : review.name)}
              >
                {open === review.name ? "Hide versions" : "Versions"}
              </button>
              {open === review.name ? <Versions name={review.name} /> : null}
            </li>
          );
        })}
      </ul>
    </Page>
  );
}

function Versions({ name }: { name: string }) {
  // the name is accounts/…/locations/…/reviews/…: its slashes are the route's own
  const versions = useLoad<{ versions: ReviewVersion[] }>(`/api/v1/${name.split("/").map(encodeURIComponent).join("/")}/versions`);
  return (
    <div class="versions">
      <ErrorNote error={versions.error} />
      <ol>
        {versions.data?.versions.map((v) => (
          <li key={v.version}>
            <strong>v{v.version}</strong> {label(v.type, "REVIEW_EVENT_TYPE_")} · seen {when(v.observe_time)}
            {v.review ? (
              <span>
                {" "}
                · {v.review.star_rating} ★ · <span class="comment">{v.review.comment ?? ""}</span>
              </span>
            ) : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
