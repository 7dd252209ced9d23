import type { Attempt, Delivery, Event, HeaderMap, PruneAudit, QueryMap } from "../interfaces.js";

/** Columns are left-aligned unless named in `right` (numbers). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], right: readonly string[] = []): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (right.includes(headers[column]!) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** `label   value` lines with the labels padded to one width. */
export function fields(pairs: ReadonlyArray<readonly [string, string]>, indent = "  "): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  const continuation = `\n${indent}${" ".repeat(width)}  `;
  return pairs.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value.split(/\r?\n/).join(continuation)}`).join("\n") + "\n";
}

/** Unix seconds → `2025-01-31 12:00:00` (UTC). */
export function time(seconds: number | null): string {
  if (seconds === null) return "-";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "");
}

/** Seconds → `45s`, `3m 20s`, `5h 2m`, `3d 4h`. */
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** One table cell: no line breaks, at most `max` characters. */
export function cell(value: string | number | null | undefined, max = 60): string {
  if (value === null || value === undefined || value === "") return "-";
  const text = String(value).replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

export function signatureLabel(valid: boolean | null): string {
  return valid === null ? "-" : valid ? "valid" : "invalid";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text when it is UTF-8, else base64. */
export function bodyText(body: Buffer): { body: string; bodyEncoding: "utf8" | "base64" } {
  try {
    return { body: utf8.decode(body), bodyEncoding: "utf8" };
  } catch {
    return { body: body.toString("base64"), bodyEncoding: "base64" };
  }
}

/** A body for people: JSON pretty-printed, other text as is, binary as base64. */
export function renderBody(body: Buffer): string {
  if (body.length === 0) return "Body: (empty)\n";
  const { body: text, bodyEncoding } = bodyText(body);
  if (bodyEncoding === "base64") return `Body (${plural(body.length, "byte")}, binary, base64)\n${text}\n`;
  try {
    return `Body (JSON)\n${JSON.stringify(JSON.parse(text), null, 2)}\n`;
  } catch {
    return `Body (${plural(body.length, "byte")})\n${text}${text.endsWith("\n") ? "" : "\n"}`;
  }
}

export function renderHeaders(title: string, map: HeaderMap | QueryMap): string {
  const entries = Object.entries(map).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `  ${name}: ${v}`));
  return entries.length === 0 ? "" : `${title}\n${entries.join("\n")}\n`;
}

// ---- JSON shapes: the library's objects with the body as text ----------------------------------

export function eventJson(event: Event): Record<string, unknown> {
  const { body, ...rest } = event;
  return { ...rest, ...bodyText(body) };
}

export function deliveryJson(delivery: Delivery): Record<string, unknown> {
  const { body, ...rest } = delivery;
  return { ...rest, ...bodyText(body) };
}

export function auditJson(audit: PruneAudit): Record<string, unknown> {
  const { summaryJson, ...rest } = audit;
  return { ...rest, summary: JSON.parse(summaryJson) as unknown };
}

export function attemptRows(attempts: readonly Attempt[]): string[][] {
  return attempts.map((a) => [String(a.id), a.outcome, time(a.attemptedAt), a.durationMs === null ? "-" : `${a.durationMs}ms`, cell(a.error, 80)]);
}
export const ATTEMPT_HEADERS = ["ID", "OUTCOME", "AT (UTC)", "DURATION", "ERROR"];
