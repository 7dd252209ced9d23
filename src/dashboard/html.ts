// The dashboard's only way to produce HTML: the `html` tag. Every interpolated value is text —
// escaped for HTML (& < > " ' and the backtick), with control, bidi and separator characters
// shown as visible escapes (\x1b, \u202e: the same set the CLI escapes) — unless it is itself
// an `Html` fragment made by this tag. Templates quote every attribute value, so an escaped value
// can never end an attribute or a tag; `href`s are built by `url()` from the dashboard's own
// paths, so a webhook's text can never become a `javascript:` URL. There is no way to mark a
// string as safe from outside this module except `trusted()`, used only for constants.
import { escapeText } from "../cli/escape.js";

export class Html {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** Text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return escapeText(text, "lines").replace(/[&<>"'`]/g, (char) => ENTITIES[char]!);
}

export type Renderable = Html | string | number | boolean | null | undefined | readonly Renderable[];

function render(value: Renderable): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false || value === true) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** A fragment: the literal parts as written, every `${value}` escaped (see the module comment). */
export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** A constant of this code base (never a value read from the database or a request). */
export function trusted(text: string): Html {
  return new Html(text);
}

/** The whole document, as the response body. */
export function documentText(fragment: Html): string {
  return `<!doctype html>\n${fragment.toString()}`;
}
