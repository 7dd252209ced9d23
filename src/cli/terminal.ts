import { createInterface } from "node:readline";
import { escapeText } from "./escape.js";

/**
 * Ask on stderr and read one answer line from stdin (a terminal, or a pipe: `echo y | knocker …`).
 * Only `y` / `yes` is a yes; end of input is a no.
 */
export async function confirm(question: string): Promise<boolean> {
  process.stderr.write(escapeText(question, "lines"));
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    const answer = await new Promise<string | null>((resolve) => {
      lines.once("line", resolve);
      lines.once("close", () => resolve(null));
    });
    // A terminal echoes the answer and its newline; a pipe or end of input does not.
    if (answer === null || !process.stdin.isTTY) process.stderr.write("\n");
    return answer !== null && /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    lines.close();
    process.stdin.destroy();
  }
}

/** Runs with fewer items than this finish too fast to need a bar. */
const MIN_ITEMS_FOR_BAR = 20;
const WIDTH = 30;

/** Where a progress bar draws: a terminal, or anything else that says whether it is one. */
export interface BarStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A one-line progress bar on `stream` (stderr by default), drawn only when that stream is a
 * terminal and the run is long, so pipes, logs and `--json` consumers never see it.
 */
export class ProgressBar {
  readonly #stream: BarStream;
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  #done = 0;
  #lastDrawn = 0;

  constructor(label: string, total: number, stream: BarStream = process.stderr) {
    this.#stream = stream;
    this.#label = label;
    this.#total = total;
    this.#enabled = stream.isTTY === true && total >= MIN_ITEMS_FOR_BAR;
  }

  /** `count` more items done (default one). */
  tick(count = 1): void {
    this.#done += count;
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#lastDrawn >= 50 || this.#done >= this.#total) {
      this.#lastDrawn = now;
      this.#draw();
    }
  }

  finish(): void {
    if (this.#enabled) this.#stream.write("\n");
  }

  #draw(): void {
    const share = this.#total === 0 ? 1 : this.#done / this.#total;
    const filled = Math.round(share * WIDTH);
    const bar = `${"#".repeat(filled)}${".".repeat(WIDTH - filled)}`;
    this.#stream.write(`\r${this.#label} [${bar}] ${this.#done}/${this.#total} ${Math.floor(share * 100)}%`);
  }
}
