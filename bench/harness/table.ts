// Plain-text tables for the drill and benchmark reports: aligned columns, no colours, so the
// output pastes into an issue or a README as it is.
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? "").padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** 12345 → "12,345". */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** 12.3 → "12 µs", 4.56 → "4.6 µs"; "n/a" for NaN. */
export function us(microseconds: number): string {
  return Number.isNaN(microseconds) ? "n/a" : `${microseconds.toFixed(microseconds < 10 ? 1 : 0)} µs`;
}
