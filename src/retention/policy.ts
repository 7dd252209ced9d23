import { KnockerError } from "../errors.js";
import type { PrunableStatus, RetentionPolicyOptions } from "../interfaces.js";
import { MAX_LIST_LIMIT, describe } from "../operator/validate.js";
import { DEFAULT_PRUNE_LIMIT, PRUNABLE_STATUSES, normalizeStatuses } from "./prune-requests.js";

/** Policy bounds, named once. */
export const RETENTION_LIMITS = {
  intervalS: [1, 365 * 86_400],
  /** Ages: from 0 ("everything received before the run") to 100 years. */
  ageS: [0, 100 * 365 * 86_400],
  limit: [1, MAX_LIST_LIMIT],
} as const;

const KNOWN_KEYS = [
  "intervalS", "eventStatuses", "eventOlderThanS", "eventLimit", "orphanDeliveriesOlderThanS", "orphanDeliveriesLimit",
] as const;

/** The policy as stored in the scheduler task's payload (seed field names, so other bindings can read it). */
export interface StoredPolicy {
  interval_s: number;
  event_statuses: PrunableStatus[];
  event_older_than_s: number | null;
  event_limit: number;
  orphan_deliveries_older_than_s: number | null;
  orphan_deliveries_limit: number;
}

/**
 * What `runRetention()` does on every interval. Validated once, here: a policy object that
 * exists is a valid one. Immutable.
 */
export class RetentionPolicy {
  readonly intervalS: number;
  readonly eventStatuses: readonly PrunableStatus[];
  readonly eventOlderThanS: number | null;
  readonly eventLimit: number;
  readonly orphanDeliveriesOlderThanS: number | null;
  readonly orphanDeliveriesLimit: number;

  constructor(options: RetentionPolicyOptions) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new KnockerError("ERR_INVALID_OPTION", "RetentionPolicy takes an options object: { intervalS, eventOlderThanS, … }");
    }
    for (const key of Object.keys(options)) {
      if (!(KNOWN_KEYS as readonly string[]).includes(key)) throw policyError(key, `is not a RetentionPolicy option (known: ${KNOWN_KEYS.join(", ")})`);
    }
    this.intervalS = integer("intervalS", options.intervalS, RETENTION_LIMITS.intervalS);
    this.eventStatuses = Object.freeze(
      options.eventStatuses === undefined
        ? [...PRUNABLE_STATUSES]
        : normalizeStatuses(options.eventStatuses, (problem) => policyError("eventStatuses", problem)),
    );
    this.eventOlderThanS = optionalAge("eventOlderThanS", options.eventOlderThanS);
    this.eventLimit = integer("eventLimit", options.eventLimit ?? DEFAULT_PRUNE_LIMIT, RETENTION_LIMITS.limit);
    this.orphanDeliveriesOlderThanS = optionalAge("orphanDeliveriesOlderThanS", options.orphanDeliveriesOlderThanS);
    this.orphanDeliveriesLimit = integer("orphanDeliveriesLimit", options.orphanDeliveriesLimit ?? DEFAULT_PRUNE_LIMIT, RETENTION_LIMITS.limit);
    if (this.eventOlderThanS === null && this.orphanDeliveriesOlderThanS === null) {
      throw new KnockerError(
        "ERR_INVALID_OPTION",
        "RetentionPolicy needs eventOlderThanS or orphanDeliveriesOlderThanS (or both): without an age it would prune nothing",
      );
    }
    Object.freeze(this);
  }

  /** The scheduler's form of this policy (CONTRACT §3 `payload`). */
  toStored(): StoredPolicy {
    return {
      interval_s: this.intervalS,
      event_statuses: [...this.eventStatuses],
      event_older_than_s: this.eventOlderThanS,
      event_limit: this.eventLimit,
      orphan_deliveries_older_than_s: this.orphanDeliveriesOlderThanS,
      orphan_deliveries_limit: this.orphanDeliveriesLimit,
    };
  }

  /** Rebuild (and re-validate) a policy read back from a job payload. */
  static fromStored(stored: unknown): RetentionPolicy {
    if (stored === null || typeof stored !== "object" || Array.isArray(stored)) {
      throw new KnockerError("ERR_INVALID_OPTION", "retention job payload has no policy object");
    }
    const s = stored as Partial<Record<keyof StoredPolicy, unknown>>;
    return new RetentionPolicy({
      intervalS: s.interval_s as number,
      eventStatuses: s.event_statuses as PrunableStatus[],
      eventOlderThanS: s.event_older_than_s as number | null,
      eventLimit: s.event_limit as number,
      orphanDeliveriesOlderThanS: s.orphan_deliveries_older_than_s as number | null,
      orphanDeliveriesLimit: s.orphan_deliveries_limit as number,
    });
  }
}

function optionalAge(name: string, value: unknown): number | null {
  return value === undefined || value === null ? null : integer(name, value, RETENTION_LIMITS.ageS);
}

function integer(name: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw policyError(name, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function policyError(name: string, problem: string): KnockerError {
  return new KnockerError("ERR_INVALID_OPTION", `RetentionPolicy option "${name}" ${problem}`);
}
