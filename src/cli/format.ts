import type { Attempt, Delivery, Event, HeaderMap, PruneAudit, QueryMap } from "../interfaces.js";
import { escapeAndTruncate, escapeJson, escapeText } from "./escape.js";
export { age } from "../text/age.js";

/** Text from a webhook or the database for one line of human output: control characters escaped. */
export const safe = (text: string): string => escapeText(text, "cell");

/**
 * Columns are left-aligned unless named in `right` (numbers). Every cell is escaped (see
 * escape.ts), so no row can carry a control sequence or a line break.
 */
export function table(headers: readonly string[], unsafeRows: readonly (readonly string[])[], right: readonly string[] = []): string {
  const rows = unsafeRows.map((row) => row.map(safe));
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (right.includes(headers[column]!) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/**
 * `label   value` lines with the labels padded to one width. Values are escaped (see escape.ts)
 * except for their line breaks and tabs: a multi-line value continues under the first line.
 */
export function fields(pairs: ReadonlyArray<readonly [string, string]>, indent = "  "): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  const continuation = `\n${indent}${" ".repeat(width)}  `;
  const line = (label: string, value: string) => `${indent}${label.padEnd(width)}  ${escapeText(value, "lines").split(/\r?\n/).join(continuation)}`;
  return pairs.map(([label, value]) => line(label, value)).join("\n") + "\n";
}

/** Unix seconds → `2025-01-31 12:00:00` (UTC). */
export function time(seconds: number | null): string {
  if (seconds === null) return "-";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "");
}


/**
 * One table cell: control characters (line breaks and tabs included) escaped, at most `max`
 * characters, cut on whole escapes.
 */
export function cell(value: string | number | null | undefined, max = 60): string {
  if (value === null || value === undefined || value === "") return "-";
  return escapeAndTruncate(String(value), max);
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

/**
 * A body for people: JSON pretty-printed, other text as is, binary as base64. Control characters
 * are escaped (see escape.ts); a text body keeps its line breaks and tabs.
 */
export function renderBody(body: Buffer): string {
  if (body.length === 0) return "Body: (empty)\n";
  const { body: text, bodyEncoding } = bodyText(body);
  if (bodyEncoding === "base64") return `Body (${plural(body.length, "byte")}, binary, base64)\n${text}\n`;
  let json: string | undefined;
  try {
    json = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    json = undefined;
  }
  // Still JSON: DEL, C1 and bidi controls inside strings become \uXXXX escapes.
  if (json !== undefined) return `Body (JSON)\n${escapeText(escapeJson(json), "lines")}\n`;
  const shown = escapeText(text, "lines");
  return `Body (${plural(body.length, "byte")})\n${shown}${shown.endsWith("\n") ? "" : "\n"}`;
}

/** `name: value` lines; names and values escaped, line breaks included (one line per value). */
export function renderHeaders(title: string, map: HeaderMap | QueryMap): string {
  const entries = Object.entries(map).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `  ${safe(name)}: ${safe(v)}`));
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
