// What a --db, --from or --to value names: a SQLite file, or a Postgres database and a schema in
// it. A Postgres URL may carry a password (postgres://user:secret@host/db, or ?password=secret):
// it is never printed. Every URL the CLI shows goes through `label`, and the CLI's writers mask
// the password of any Postgres URL in what they print (`redactUrls`), so a message that quotes a
// URL from deeper down cannot leak one either. Only URLs are masked: the password as a word
// elsewhere (a folder named like it) is left alone rather than garbling the text around it.
import { isSchemaName } from "../options.js";
import { isPostgresUrl } from "../store/postgres/driver.js";
import { DEFAULT_SCHEMA } from "../store/postgres/postgres-store.js";
import { UsageError } from "./args.js";

export interface SqliteTarget {
  engine: "sqlite";
  path: string;
  /** How messages name it. */
  label: string;
}

export interface PostgresTarget {
  engine: "postgres";
  url: string;
  schema: string;
  /** The URL with its password masked, and the schema. */
  label: string;
  /** Server, port and database, to tell whether two URLs name the same database. */
  database: string;
}

export type InboxTarget = SqliteTarget | PostgresTarget;

/** A schema name and where it came from (`--schema`, `$KNOCKER_SCHEMA`), for the messages. */
export interface SchemaChoice {
  name: string;
  from: string;
}

// scheme, user info, host and port, path, query: loose enough for the forms node-postgres takes
// (an empty host with ?host=/socket/folder included).
const URL_PARTS = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i;

/** `value` of `option` as a target; `schema` applies to a Postgres database only. */
export function inboxTarget(value: string, option: string, schema: SchemaChoice | undefined): InboxTarget {
  if (value === "") throw new UsageError(`${option} must not be empty`);
  if (!isPostgresUrl(value)) {
    if (schema !== undefined) throw new UsageError(`${schema.from} applies to a Postgres database (postgres://…) only; ${option} ${value} is a SQLite file`);
    return { engine: "sqlite", path: value, label: value };
  }
  const name = schema?.name ?? DEFAULT_SCHEMA;
  if (!isSchemaName(name)) {
    throw new UsageError(`${schema!.from} must be a lower-case Postgres identifier (letters, digits and _, at most 63, not starting with a digit), got ${JSON.stringify(name)}`);
  }
  const parts = URL_PARTS.exec(value);
  if (parts === null) throw new UsageError(`${option} is not a valid postgres:// URL`);
  const [, , userInfo = "", hostPort = "", path = "", query = ""] = parts;
  const user = userInfo.split(":")[0]!;
  const params = new URLSearchParams(query);
  const host = (hostPort || params.get("host") || "localhost").toLowerCase();
  const database = `${host}${/:\d+$/.test(host) ? "" : `:${params.get("port") ?? "5432"}`}/${decode(path.slice(1)) || decode(user)}`;
  return { engine: "postgres", url: value, schema: name, label: `${redactUrl(value)} (schema ${name})`, database };
}

/** The URL with the password of its user info and of its query masked. */
export function redactUrl(url: string): string {
  return redactUrls(url);
}

/**
 * `text` with the password of every Postgres URL in it masked: the user info's (up to the last
 * "@" before the host) and any query parameter whose name has "pass" in it.
 */
export function redactUrls(text: string): string {
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:@/\s]*:)[^/\s]*@/gi, "$1***@")
    .replace(/(postgres(?:ql)?:\/\/\S*?[?&][^=&\s]*pass[^=&\s]*=)[^&\s]*/gi, "$1***");
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
