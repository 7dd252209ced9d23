import type { Knocker } from "../knocker.js";
import { GLOBAL_OPTIONS, type OptionSpecs, type ParsedArgs } from "./args.js";

/** What a command's `run` gets: its parsed arguments and the process around it. */
export interface Context {
  readonly values: ParsedArgs["values"];
  readonly positionals: readonly string[];
  readonly json: boolean;
  /** The environment the CLI was started with (KNOCKER_* defaults). */
  readonly env: NodeJS.ProcessEnv;
  /** The inbox named by --db / $KNOCKER_DB (and --schema), checked and opened on first use, closed after the command. */
  knocker(): Promise<Knocker>;
  /** Unix seconds. */
  now(): number;
  /** Write to stdout. */
  out(text: string): void;
  /** Write to stderr. */
  err(text: string): void;
  /** Print `value` as one JSON document. */
  printJson(value: unknown): void;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** After `knocker <name>`, e.g. `<id> [options]`. */
  usage: string;
  /** More lines for `--help` (examples, notes). */
  details?: string;
  options: OptionSpecs;
  /** Positional arguments, in order; the last `optionalPositionals` of them may be left out. */
  positionals: readonly string[];
  optionalPositionals?: number;
  run(context: Context): Promise<number> | number;
}

function optionLines(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join("\n");
}

export function commandHelp(command: Command): string {
  const parts = [`Usage: knocker ${command.name} ${command.usage}`.trimEnd(), "", command.summary];
  if (command.details) parts.push("", command.details.trimEnd());
  if (Object.keys(command.options).length > 0) parts.push("", "Options:", optionLines(command.options));
  parts.push("", "Global options:", optionLines(GLOBAL_OPTIONS));
  return parts.join("\n") + "\n";
}

export function overallHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: knocker <command> [options]",
    "",
    "Inspect, replay and prune a Knocker webhook inbox (a SQLite file or a postgres:// URL), copy it",
    "between engines, and sign test webhooks.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    optionLines(GLOBAL_OPTIONS),
    "",
    "Run knocker <command> --help for a command's options.",
    "Exit codes: 0 ok, 1 operation refused or failed (the reason is on stderr), 2 usage error.",
    "",
  ].join("\n");
}
