import { readFileSync } from "node:fs";
import { KnockerError } from "../errors.js";
import type { Knocker } from "../knocker.js";
import { checkPositionals, EXIT, GLOBAL_OPTIONS, parseCommandArgs, Refusal, UsageError } from "./args.js";
import { commandHelp, overallHelp, type Command, type Context } from "./command.js";
import { copyCommand } from "./commands/copy.js";
import { dashboardCommand } from "./commands/dashboard.js";
import { ignoreCommand, pruneCommand, replayCommand, replayDeliveryCommand, requeueCommand } from "./commands/actions.js";
import { auditsCommand, deliveriesCommand, deliveryCommand, eventCommand, eventsCommand } from "./commands/read.js";
import { signCommand } from "./commands/sign.js";
import { keysCommand } from "./commands/keys.js";
import { statsCommand } from "./commands/stats.js";
import { inboxSettings, openInbox } from "./database.js";
import { escapeJson, escapeText } from "./escape.js";
import { redactUrls } from "./targets.js";

export const COMMANDS: readonly Command[] = [
  eventsCommand, eventCommand, deliveriesCommand, deliveryCommand, auditsCommand, statsCommand, keysCommand,
  replayCommand, requeueCommand, ignoreCommand, replayDeliveryCommand, pruneCommand, copyCommand, signCommand, dashboardCommand,
];

/** Global options that take a value, so the command name can be found after them (`knocker --db x events`). */
const GLOBALS_WITH_VALUE = new Set(
  Object.entries(GLOBAL_OPTIONS).filter(([, spec]) => spec.type === "string").map(([name]) => `--${name}`),
);

/** The index of the command name in argv: the first argument that is neither a global option nor its value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) return i;
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
  }
  return -1;
}

/**
 * A writer for human text: whatever reaches the terminal has its control characters escaped
 * (escape.ts), line breaks and tabs aside, and no postgres:// URL keeps its password
 * (targets.ts). The formatters escape each value already; this is the net under every message,
 * refusal and remote answer that quotes a value.
 */
const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(escapeText(redactUrls(text), "lines"));

/** Run the CLI; resolves to the exit code. Every failure becomes one line on stderr. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const out = write(process.stdout);
  const err = write(process.stderr);
  const at = commandIndex(argv);
  const name = at < 0 ? undefined : argv[at]!;
  const rest = at < 0 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];

  if (name === "help") {
    const topicAt = commandIndex(rest); // skips global options and their values, like the command itself
    const wanted = topicAt < 0 ? undefined : rest[topicAt];
    const topic = wanted === undefined ? undefined : COMMANDS.find((c) => c.name === wanted);
    if (wanted !== undefined && topic === undefined) return usageError(err, `unknown command ${JSON.stringify(wanted)} (see knocker --help)`);
    out(topic ? commandHelp(topic) : overallHelp(COMMANDS));
    return EXIT.ok;
  }
  if (name === undefined) {
    if (rest.some((arg) => arg === "--help" || arg === "-h")) {
      out(overallHelp(COMMANDS));
      return EXIT.ok;
    }
    if (rest.some((arg) => arg === "--version" || arg === "-v")) {
      out(`${version()}\n`);
      return EXIT.ok;
    }
    // Like every other usage error: one line (the full help is one `knocker --help` away).
    return usageError(err, `missing command: ${COMMANDS.map((c) => c.name).join(", ")} (see knocker --help)`);
  }

  const command = COMMANDS.find((c) => c.name === name);
  let opening: Promise<Knocker> | undefined;
  let knocker: Knocker | undefined;
  let code: number;
  let failed = false;
  try {
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)} (see knocker --help)`);
    const parsed = parseCommandArgs(command.name, rest, { ...command.options, ...GLOBAL_OPTIONS });
    if (parsed.values.help === true) {
      out(commandHelp(command));
      return EXIT.ok;
    }
    checkPositionals(command.name, parsed.positionals, command.positionals, command.optionalPositionals);
    const json = parsed.values.json === true;
    const context: Context = {
      values: parsed.values,
      positionals: parsed.positionals,
      json,
      env,
      knocker: () => (opening ??= (async () => (knocker = await openInbox(inboxSettings(parsed.values, env))))()),
      now: () => Math.floor(Date.now() / 1000),
      out,
      err,
      // Exact values: JSON.stringify escapes C0; DEL, C1 and bidi controls become \uXXXX too.
      printJson: (value) => out(`${escapeJson(JSON.stringify(value, null, 2))}\n`),
    };
    code = await command.run(context);
  } catch (error) {
    failed = true;
    report(err, error, env);
    code = exitCode(error);
  }
  try {
    await knocker?.close();
  } catch (error) {
    // After a failure its line stands alone; after a success, a failure to close is the one line.
    if (!failed) {
      report(err, error, env);
      code = EXIT.refused;
    }
  }
  return code;
}

/** The one line for a failure (and, with KNOCKER_DEBUG set, its stack). */
export function report(err: (text: string) => void, error: unknown, env: NodeJS.ProcessEnv): void {
  err(`knocker: ${describeError(error)}\n`);
  if (env.KNOCKER_DEBUG && error instanceof Error && error.stack) err(`${error.stack}\n`);
}

function usageError(err: (text: string) => void, message: string): number {
  err(`knocker: ${message}\n`);
  return EXIT.usage;
}

function exitCode(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof KnockerError && error.code === "ERR_INVALID_ARGUMENT") return EXIT.usage;
  return EXIT.refused;
}

/** One line: the message of an error we raised on purpose, a short description of anything else. */
function describeError(error: unknown): string {
  if (error instanceof UsageError || error instanceof Refusal || error instanceof KnockerError) return oneLine(error.message);
  if (error instanceof Error) return `unexpected error: ${oneLine(error.message)} (set KNOCKER_DEBUG=1 for the stack)`;
  return `unexpected error: ${oneLine(String(error))}`;
}

const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ").trim();

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
