// Child side of the real-process tests: one JSON object per line on stdout, commands on stdin.
import { createInterface } from "node:readline";

/**
 * Write one message. On Linux, writes to a pipe are synchronous in Node: once this returns the
 * line is in the pipe, so the parent still reads it if this process is SIGKILLed right after.
 */
export function emit(message: { type: string } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Call `onMessage` for every JSON line the parent sends. When the parent goes away (stdin
 * closes) the child exits, so a crashed test run leaves no orphan processes behind.
 */
export function onParentMessage(onMessage: (message: { type: string } & Record<string, unknown>) => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => onMessage(JSON.parse(line) as { type: string } & Record<string, unknown>));
  lines.on("close", () => process.exit(3));
}

/** Last-resort guard: no fixture may outlive a stuck test. */
export function exitAfter(ms: number): void {
  setTimeout(() => {
    process.stderr.write(`fixture ${process.argv[1]} gave up after ${ms} ms\n`);
    process.exit(4);
  }, ms).unref();
}

/** A small deterministic PRNG (mulberry32) so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
