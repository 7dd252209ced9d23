/** The endpoints table: one row per endpoint name (never its secrets). */
export const ENDPOINT_SQL = {
  ownerOfPath: `SELECT name FROM knocker_endpoints WHERE path = ?`,
  upsert: `INSERT INTO knocker_endpoints (name, path, provider, enabled, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET path = excluded.path, provider = excluded.provider, enabled = excluded.enabled
           RETURNING id`,
} as const;
