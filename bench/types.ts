/** One line of the benchmark table `npm run bench` prints: a measured figure, and a ratio against its target when there is one. */
export interface BenchRow {
  /** What was measured, e.g. "ValidateToken via gateway p50". */
  name: string;
  /** The measured figure with its unit, e.g. "1.8 ms" or "5,400 reviews/s". */
  figure: string;
  /** The ratio the issue asks for, e.g. "0.82 × direct". */
  ratio?: string;
  /** The target, e.g. "≥ 0.5". */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  met?: boolean;
}

/** "full" is for people (`npm run bench`); "reduced" runs inside the test suite so benchmarks cannot rot. */
export type BenchSize = "full" | "reduced";

export type BenchFn = (options: { size: BenchSize; log?: (line: string) => void }) => Promise<BenchRow[]>;
