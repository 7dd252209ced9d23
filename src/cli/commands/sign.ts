import { readFileSync } from "node:fs";
import { parseInteger, Refusal, stringOption, UsageError } from "../args.js";
import type { Command, Context } from "../command.js";
import { SIGNERS, SignError, type Signed } from "../signers/index.js";

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SEND_TIMEOUT_MS = 30_000;

function providerList(): string {
  const width = Math.max(...[...SIGNERS.keys()].map((name) => name.length));
  return [...SIGNERS.values()]
    .map((s) => `  ${s.provider.padEnd(width)}  --secret: ${s.secret}${s.needsUrl ? "; needs --url (or --send)" : ""}`)
    .join("\n");
}

export const signCommand: Command = {
  name: "sign",
  summary: "Print the headers a provider would send with a body, or send the signed request.",
  usage: "<provider> (--secret S | --secret-file FILE) --body FILE|- [--url U] [--header k=v]... [--send URL]",
  get details() {
    return [
      "Providers and what --secret is for each:",
      providerList(),
      "",
      "Headers the provider sends besides its signature (an event name, a delivery id) are added with",
      "--header; ids and timestamps given that way are the ones signed. Without --send, the headers are",
      "printed one per line; with --send, the request is POSTed and the answer's status is printed",
      "(exit 1 when it is not 2xx). Key-pair providers (discord, sendgrid, standard-webhooks with a PEM key)",
      "print the public key to configure as the endpoint's secret on stderr (JSON: verificationKey).",
      "",
      "Example: knocker sign github --secret gh-secret --body push.json --header X-GitHub-Event=push \\",
      "           --send http://localhost:8787/webhooks/github",
    ].join("\n");
  },
  options: {
    secret: { type: "string", value: "S", description: "the shared secret (or a PEM private key) to sign with" },
    "secret-file": { type: "string", value: "FILE", description: "read the secret or PEM private key from FILE (keeps it out of ps)" },
    body: { type: "string", value: "FILE|-", description: "required: the raw body, from FILE or - for stdin; sent byte for byte" },
    url: { type: "string", value: "URL", description: "the public URL the provider calls, for the providers that sign it (default: --send)" },
    header: { type: "string", value: "K=V", multiple: true, description: "another header to send (repeatable); wins over a generated one" },
    send: { type: "string", value: "URL", description: "POST the signed request to URL and print the answer's status" },
    timestamp: { type: "string", value: "UNIX", description: "sign as of this unix time in seconds (default: now)" },
    "token-header": { type: "string", value: "NAME", description: "token-header only: the header carrying the token (default x-knocker-token)" },
  },
  positionals: ["provider"],
  run: sign,
};

async function sign(context: Context): Promise<number> {
  const { values } = context;
  const providerName = context.positionals[0]!;
  const signer = SIGNERS.get(providerName);
  if (signer === undefined) throw new UsageError(`no signer for provider ${JSON.stringify(providerName)}; one of: ${[...SIGNERS.keys()].join(", ")}`);

  const secret = readSecret(values);
  const body = readBody(stringOption(values, "body"));
  const userHeaders = parseHeaders(values.header as string[] | undefined);
  const header = (name: string) => userHeaders.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const send = optionalUrl(values, "send");
  const url = optionalUrl(values, "url") ?? send;
  if (signer.needsUrl && url === undefined) {
    throw new UsageError(`${signer.provider} signs the URL it calls: pass --url URL (the endpoint's url option) or --send URL`);
  }
  const timestampText = stringOption(values, "timestamp");
  const timestamp = timestampText === undefined ? context.now() : parseInteger(timestampText, "timestamp", 0, 99_999_999_999);
  const tokenHeader = stringOption(values, "token-header") ?? "x-knocker-token";
  if (!HEADER_NAME.test(tokenHeader)) throw new UsageError(`--token-header must be an HTTP header name, got ${JSON.stringify(tokenHeader)}`);
  const contentType = header("content-type") ?? sniffContentType(body);

  let signed: Signed;
  try {
    signed = signer.sign({ body, secret, url, timestamp, contentType, header, tokenHeader });
  } catch (error) {
    if (error instanceof SignError) throw new UsageError(error.message);
    throw error;
  }

  const headers = mergeHeaders([["Content-Type", contentType], ...signed.headers], userHeaders);
  const target = send === undefined ? undefined : withQuery(send, signed.query);
  const shownUrl = target ?? (url === undefined ? undefined : withQuery(url, signed.query));
  for (const warning of signed.warnings ?? []) context.err(`knocker: warning: ${warning}\n`);
  const response = target === undefined ? undefined : await post(target, headers, body);

  if (context.json) {
    context.printJson({
      provider: signer.provider,
      method: "POST",
      url: shownUrl ?? null,
      headers: Object.fromEntries(headers),
      ...(signed.verificationKey ? { verificationKey: signed.verificationKey } : {}),
      ...(response ? { response } : {}),
    });
  } else {
    if (signed.verificationKey) context.err(`knocker: configure the endpoint with this public key as its secret: ${signed.verificationKey}\n`);
    const lines = [...(shownUrl ? [`POST ${shownUrl}`] : []), ...headers.map(([name, value]) => `${name}: ${value}`)];
    if (response) lines.push("", `HTTP ${response.status} ${response.statusText}`.trimEnd(), ...(response.body ? [response.body] : []));
    context.out(`${lines.join("\n")}\n`);
  }
  if (response && (response.status < 200 || response.status > 299)) {
    throw new Refusal(`${target} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
  }
  return 0;
}

function readSecret(values: Context["values"]): string {
  const inline = stringOption(values, "secret");
  const file = stringOption(values, "secret-file");
  if (inline !== undefined && file !== undefined) throw new UsageError("give --secret or --secret-file, not both");
  if (file !== undefined) {
    const text = readFile(file, "--secret-file").toString("utf8").replace(/\r?\n$/, "");
    if (text.length === 0) throw new UsageError(`--secret-file ${file} is empty`);
    return text;
  }
  if (inline === undefined || inline.length === 0) throw new UsageError("sign needs --secret S or --secret-file FILE");
  return inline;
}

function readBody(path: string | undefined): Buffer {
  if (path === undefined) throw new UsageError("sign needs --body FILE (or --body - to read stdin)");
  return path === "-" ? readFile(0, "--body -") : readFile(path, "--body");
}

function readFile(path: string | number, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (code ?? (error as Error).message);
    throw new UsageError(`cannot read ${option}${typeof path === "string" ? ` ${path}` : ""}: ${why}`);
  }
}

function parseHeaders(specs: readonly string[] | undefined): Array<[string, string]> {
  return (specs ?? []).map((spec) => {
    const match = /^([^=:\s]+)\s*[=:]\s?(.*)$/.exec(spec);
    if (!match || !HEADER_NAME.test(match[1]!) || /[\r\n]/.test(match[2]!)) {
      throw new UsageError(`--header takes name=value (e.g. --header X-GitHub-Event=push), got ${JSON.stringify(spec)}`);
    }
    return [match[1]!, match[2]!];
  });
}

/** Generated headers, then the user's: a user header replaces a generated one of the same name. */
function mergeHeaders(generated: Array<[string, string]>, user: Array<[string, string]>): Array<[string, string]> {
  const merged = [...generated];
  for (const [name, value] of user) {
    const at = merged.findIndex(([key]) => key.toLowerCase() === name.toLowerCase());
    if (at >= 0) merged[at] = [merged[at]![0], value];
    else merged.push([name, value]);
  }
  return merged;
}

function sniffContentType(body: Buffer): string {
  const text = body.toString("utf8");
  try {
    JSON.parse(text);
    return "application/json";
  } catch {
    // A body of name=value pairs joined by & is a form post (Slack interactivity, Twilio).
    return /^[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*\s*$/.test(text) ? "application/x-www-form-urlencoded" : "text/plain";
  }
}

function optionalUrl(values: Context["values"], name: string): string | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) throw new UsageError(`--${name} must be an http(s) URL, got ${JSON.stringify(text)}`);
  return text;
}

function withQuery(url: string, query: Signed["query"]): string {
  if (!query || query.length === 0) return url;
  const suffix = query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
  return `${url}${url.includes("?") ? "&" : "?"}${suffix}`;
}

async function post(url: string, headers: Array<[string, string]>, body: Buffer): Promise<{ status: number; statusText: string; body: string }> {
  try {
    const response = await fetch(url, { method: "POST", headers, body: new Uint8Array(body), signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
    return { status: response.status, statusText: response.statusText, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === "TimeoutError" ? `no answer within ${SEND_TIMEOUT_MS / 1000}s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new Refusal(`could not send to ${url}: ${why}`);
  }
}
