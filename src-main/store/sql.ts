/** Small helpers shared by the table modules: the clock type and JSON/number column conversions. */
import type Database from 'better-sqlite3';

export type Db = Database.Database;
/** ms since the epoch; injectable so tests get exact timestamps. */
export type Clock = () => number;

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  return JSON.parse(text) as T;
}

/** SQLite stores NaN as NULL; keep optional numbers explicit. */
export function numOrNull(v: number | null | undefined): number | null {
  return v === undefined || v === null || Number.isNaN(v) ? null : v;
}

/** `?, ?, ?` for an IN list of n values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
