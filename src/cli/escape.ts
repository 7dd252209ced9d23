// Terminal safety: webhook-supplied text (event types, headers, bodies, errors, ids) must never
// reach the operator's terminal as control sequences. `\x1b[2J` clears the screen, `\x1b]0;…\x07`
// retitles the window, `\x1b]52;c;…\x07` writes the clipboard, a C1 `\u009b` is a CSI on its own,
// and bidi overrides make text read differently from what it is. Every such character is shown
// as a visible escape instead: `\x1b`, `\x7f`, `\u009b`, `\u202e`, `\n`.

/**
 * The characters never written raw: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), the bidi
 * marks, embeddings, overrides and isolates (U+061C, U+200E–U+200F, U+202A–U+202E,
 * U+2066–U+2069), the line and paragraph separators (U+2028–U+2029), and lone surrogates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;
/** The same without surrogates: JSON.stringify already escapes lone ones and keeps pairs whole. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** What a multi-line view keeps as is: line breaks (\n, \r\n) and tabs. A table cell keeps nothing. */
export type Layout = "cell" | "lines";

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** The visible escape of one unsafe character. */
function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  const named = NAMED[char];
  if (named !== undefined) return named;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` cut into display units: a run of safe characters is one unit per code point, an unsafe
 * character one unit holding its whole escape (so truncating on units never halves an escape).
 */
export function escapeUnits(text: string, layout: Layout): string[] {
  const units: string[] = [];
  const chars = [...text]; // code points: a valid surrogate pair stays whole
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (layout === "lines") {
      if (char === "\n" || char === "\t") {
        units.push(char);
        continue;
      }
      if (char === "\r" && chars[i + 1] === "\n") {
        units.push("\r\n");
        i++;
        continue;
      }
    }
    // A whole pair is a safe astral character; a single surrogate is a lone one.
    units.push(char.length === 1 && UNSAFE.test(char) ? escapeChar(char) : char);
  }
  return units;
}

/** `text` with every unsafe character escaped (see `UNSAFE`); in `lines` layout \n, \r\n and \t stay. */
export function escapeText(text: string, layout: Layout = "cell"): string {
  if (!UNSAFE.test(text)) return text;
  return escapeUnits(text, layout).join("");
}

/**
 * `text` escaped for one table cell, at most `max` characters: when longer it is cut on whole
 * units (never inside an escape) and ends in `…`.
 */
export function escapeAndTruncate(text: string, max: number): string {
  const escaped = escapeText(text, "cell");
  if (escaped.length <= max) return escaped;
  let out = "";
  for (const unit of escapeUnits(text, "cell")) {
    if (out.length + unit.length > max - 1) break;
    out += unit;
  }
  return `${out}…`;
}

/**
 * JSON text whose strings hold DEL, C1, bidi controls or separators: those characters written as
 * `\uXXXX` escapes, which parse back to exactly the same strings (JSON.stringify escapes only
 * C0 itself; these can only occur inside string literals, never in JSON's structure).
 */
export function escapeJson(json: string): string {
  // C0 inside strings is already escaped by JSON.stringify; its raw \n and spaces are layout.
  return json.replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
