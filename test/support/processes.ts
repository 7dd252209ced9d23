// Parent side of the real-process tests: spawn `node --import tsx <script>` children that speak
// one JSON object per line on stdout, and wait for their messages.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export type Message = { type: string } & Record<string, unknown>;

/** Absolute path of a script in test/fixtures/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * A child process running a test fixture. Every complete stdout line that parses as a JSON
 * object with a `type` is a message; anything else (a warning, a torn last line) is noise.
 * stderr is collected for assertion messages.
 */
export class Child {
  readonly proc: ChildProcess;
  readonly messages: Message[] = [];
  readonly noise: string[] = [];
  stderr = "";
  /** Resolves once the process exited and all of its stdout was read. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listeners = new Set<() => void>();

  constructor(script: string, args: readonly string[] = [], nodeArgs: readonly string[] = []) {
    this.proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    live.add(this.proc);
    this.proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    const lines = createInterface({ input: this.proc.stdout! });
    lines.on("line", (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = undefined;
      }
      if (message !== null && typeof message === "object" && typeof (message as Message).type === "string") {
        this.messages.push(message as Message);
      } else {
        this.noise.push(line);
      }
      this.#notify();
    });
    const stdoutDone = new Promise<void>((resolve) => lines.once("close", resolve));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      this.proc.once("close", (code, signal) => resolve({ code, signal })),
    );
    this.closed = Promise.all([stdoutDone, exited]).then(([, result]) => {
      live.delete(this.proc);
      this.#notify();
      return result;
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Messages of one type, in arrival order. */
  of(type: string): Message[] {
    return this.messages.filter((m) => m.type === type);
  }

  /** Send one JSON line on the child's stdin. */
  send(message: Message): void {
    this.proc.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.proc.kill(signal);
  }

  /** Resolve once `predicate` holds; reject on timeout or when the child exits first. */
  until<T>(predicate: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = predicate();
        if (value !== undefined && value !== false) {
          done();
          resolve(value);
        } else if (this.exited && this.proc.stdout!.readableEnded) {
          done();
          reject(new Error(`child ${this.pid} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from child ${this.pid}\n${this.stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** The first message of `type` (optionally matching `where`), waiting up to `timeoutMs`. */
  next(type: string, timeoutMs: number, where: (m: Message) => boolean = () => true): Promise<Message> {
    return this.until(() => this.messages.find((m) => m.type === type && where(m)), timeoutMs, `a "${type}" message`);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface ScriptRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Run `count` copies of an ES module script (`node --import tsx -e`) that busy-wait until the
 * same moment before doing their work, for races between processes (several opening one file).
 * The script reads that moment from `process.argv[2]`.
 */
export function raceScripts(script: string, count: number, startInMs = 1500): Promise<ScriptRun[]> {
  const start = Date.now() + startInMs;
  return Promise.all(Array.from({ length: count }, () => new Promise<ScriptRun>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, String(start)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  })));
}
