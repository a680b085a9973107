// Small pieces every page uses: loading a resource, showing an error, a client picker.
// Everything renders through JSX text nodes: values from Google are never parsed as HTML.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api.js";
import type { Client } from "./types.js";

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (again whenever it changes or `reload` is called). */
export function useLoad<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: path !== undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>("GET", path).then(
      (data) => live && setState({ data, loading: false }),
      (err: unknown) => live && setState({ error: messageOf(err), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.status})`;
  return err instanceof Error ? err.message : String(err);
}

export function ErrorNote({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** The tenant's clients, for pickers. */
export function useClients(): Loaded<{ clients: Client[] }> {
  return useLoad<{ clients: Client[] }>("/clients?page_size=200");
}

export function ClientSelect({
  id,
  value,
  onChange,
  clients,
  allowAll,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  clients: Client[];
  allowAll?: boolean;
}) {
  return (
    <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
      {allowAll ? (
        <option value="">All clients</option>
      ) : (
        <option value="" disabled>
          Choose a client
        </option>
      )}
      {clients.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name || c.id}
        </option>
      ))}
    </select>
  );
}
