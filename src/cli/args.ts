import { parseArgs } from "node:util";
import type { EventStatus } from "../interfaces.js";
import { STATUSES } from "../operator/operator.js";

/** Exit codes of the `knocker` bin. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** A mistake in how the command was called: exit 2, one line on stderr. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A request the CLI understood but will not (or could not) carry out: exit 1, one line on stderr. */
export class Refusal extends Error {
  override readonly name = "Refusal";
}

export type OptionKind = "string" | "boolean";

/** One `--option` of a command, as parseArgs takes it plus what `--help` prints. */
export interface OptionSpec {
  type: OptionKind;
  /** Shown after the option in the help text, e.g. `PATH`. Booleans have none. */
  value?: string;
  short?: string;
  /** May be given more than once (`--header k=v --header k2=v2`). */
  multiple?: boolean;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  db: { type: "string", value: "PATH|URL", description: "the SQLite file, or a postgres:// URL (default: $KNOCKER_DB, then ./knocker.db)" },
  schema: { type: "string", value: "NAME", description: "Postgres only: the inbox's schema, as the app's open() option (default: $KNOCKER_SCHEMA, then knocker)" },
  queue: { type: "string", value: "NAME", description: "the app's queueName (default: $KNOCKER_QUEUE, then knocker.events)" },
  "max-attempts": {
    type: "string",
    value: "N",
    description: "the app's maxAttempts, given to jobs this command enqueues (default: $KNOCKER_MAX_ATTEMPTS, then 3)",
  },
  json: { type: "boolean", description: "print JSON (one document) instead of a table" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionSpecs;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** parseArgs with one-line usage errors instead of its multi-sentence ones. */
export function parseCommandArgs(command: string, argv: readonly string[], specs: OptionSpecs): ParsedArgs {
  const options: Record<string, { type: OptionKind; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    throw new UsageError(`${parseArgsProblem(error, argv, specs)} (see knocker ${command} --help)`);
  }
}

function parseArgsProblem(error: unknown, argv: readonly string[], specs: OptionSpecs): string {
  const { code, message = "" } = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted ?? ""}`.trim();
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // "Option '--limit <value>' argument missing" / "Option '--json' does not take an argument" /
      // "Option '--limit' argument is ambiguous": a string option followed by a word starting with "-".
      const option = quoted?.split(" ")[0] ?? "";
      if (/argument is ambiguous/.test(message)) return dashValueProblem(option, argv, specs);
      return /argument missing/.test(message) ? `option ${option} needs a value` : `option ${option} does not take a value`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted ?? ""}`.trim();
    default:
      return (message || String(error)).split("\n")[0]!;
  }
}

/**
 * parseArgs refuses `--limit -1`: a word starting with "-" after an option that takes a value may
 * be a forgotten value followed by the next option (`--limit --json`), so it is never taken as the
 * value. Say which of the two it is, and how to pass a value that starts with a dash.
 */
function dashValueProblem(option: string, argv: readonly string[], specs: OptionSpecs): string {
  const long = option.startsWith("--")
    ? option.slice(2)
    : (Object.entries(specs).find(([, spec]) => spec.short !== undefined && `-${spec.short}` === option)?.[0] ?? option.replace(/^-+/, ""));
  const at = argv.findIndex((arg, i) => arg === option && argv[i + 1]?.startsWith("-"));
  const next = at < 0 ? undefined : argv[at + 1]!;
  if (next === undefined || next === "--" || isOption(next, specs)) {
    return `option --${long} needs a value${next === undefined ? "" : ` (it is followed by ${next === "--" ? "--" : `option ${next.split("=")[0]}`})`}`;
  }
  return `option --${long} was given ${JSON.stringify(next)}, which starts with "-" and reads as an option; to pass a value that starts with "-", write --${long}=${next}`;
}

/** `--json`, `--db=x`, `-h`: a word that names one of the command's options. */
function isOption(word: string, specs: OptionSpecs): boolean {
  if (word.startsWith("--")) return word.slice(2).split("=")[0]! in specs;
  return word.length === 2 && Object.values(specs).some((spec) => spec.short === word[1]);
}

/** Exactly the positionals a command takes, else a usage error naming what is wrong. */
export function checkPositionals(command: string, positionals: readonly string[], names: readonly string[], optional = 0): void {
  const required = names.length - optional;
  if (positionals.length < required) {
    throw new UsageError(`${command} needs ${names.slice(positionals.length, required).map((n) => `<${n}>`).join(" ")}`);
  }
  if (positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])} for ${command}`);
}

/** A positive integer id (`12`), or a usage error. */
export function parseId(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** An integer in [min, max], or a usage error naming the option. */
export function parseInteger(text: string, option: string, min: number, max: number): number {
  const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `90s`, `30m`, `36h`, `7d`, `2w`, or combined (`1d12h`) → seconds. */
export function parseDuration(text: string, option: string): number {
  if (!/^(?:\d{1,9}[smhdw])+$/.test(text)) {
    const negative = /^-(?:\d+[smhdw])+$/.test(text) ? " (a duration is not negative)" : "";
    throw new UsageError(`--${option} must be a duration like 90s, 30m, 36h, 7d or 2w, got ${JSON.stringify(text)}${negative}`);
  }
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g)) seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  return seconds;
}

/**
 * `now` minus a duration (`--older-than 30d`), as a unix time. A duration that reaches back
 * before 1970-01-01 is out of range: no receipt is that old, and the time cannot be written.
 */
export function parseAgo(text: string, option: string, now: number): number {
  const seconds = parseDuration(text, option);
  if (seconds > now) {
    throw new UsageError(
      `--${option} ${text} is out of range: it reaches back before 1970-01-01, and nothing is that old ` +
        `(the longest is ${Math.floor(now / UNIT_SECONDS.d!)}d)`,
    );
  }
  return now - seconds;
}

/**
 * A point in time for `--since`: a duration back from now (`36h`), a unix timestamp in seconds
 * (`1700000000`) or an ISO-8601 date (`2025-01-31`, `2025-01-31T12:00:00Z`).
 */
export function parseSince(text: string, now: number): number {
  if (/^\d{9,12}$/.test(text)) return Number(text);
  if (/^(?:\d+[smhdw])+$/.test(text)) return Math.max(0, now - parseDuration(text, "since"));
  if (/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (Number.isFinite(ms) && ms >= 0) return Math.floor(ms / 1000);
  }
  throw new UsageError(`--since must be a duration back from now (36h, 7d), a unix timestamp or an ISO date, got ${JSON.stringify(text)}`);
}

export function parseStatus(text: string): EventStatus {
  if (!(STATUSES as readonly string[]).includes(text)) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}, got ${JSON.stringify(text)}`);
  return text as EventStatus;
}

/** Read an optional string option. */
export function stringOption(values: ParsedArgs["values"], name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
