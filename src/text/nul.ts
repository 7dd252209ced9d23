// U+0000 in text: SQLite stores it, a Postgres text column cannot hold it. Both engines keep the
// same values, so a caller's own text with one is refused, and text a provider read out of a
// verified body (an event type or id) has it replaced, so the signed receipt is still stored —
// its body byte for byte, bodies being bytes on both engines.

export function hasNul(value: string): boolean {
  return value.includes("\u0000");
}

/** The value with each U+0000 as U+FFFD (the replacement character); deterministic, so dedupe keys still repeat. */
export function replaceNul<T extends string | null>(value: T): T {
  return (value !== null && hasNul(value) ? value.replaceAll("\u0000", "\uFFFD") : value) as T;
}
