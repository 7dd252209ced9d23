import { KnockerError } from "../errors.js";
import { hasNul } from "../text/nul.js";

export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 50;

export function checkId(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `${what} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

export function checkLimit(value: unknown, fallback = DEFAULT_LIST_LIMIT): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_LIST_LIMIT) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${describe(value)}`);
  }
  return value;
}

/** An integer unix timestamp in seconds. */
export function checkTimestamp(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must be an integer unix timestamp in seconds, got ${describe(value)}`);
  }
  return value;
}

export function checkOptionalTimestamp(value: unknown, name: string): number | undefined {
  return value === undefined ? undefined : checkTimestamp(value, name);
}

export function checkOptionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must be a non-empty string, got ${describe(value)}`);
  }
  if (hasNul(value)) throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must not contain a NUL character (U+0000)`);
  return value;
}

export function checkOptionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must be a boolean, got ${describe(value)}`);
  return value;
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must be one of ${allowed.join(", ")}, got ${describe(value)}`);
  }
  return value as T;
}

/**
 * An options object (or undefined) whose keys are all among `known`: a misspelt option must
 * fail, not silently widen a list or a delete.
 */
export function checkOptionsObject<T>(value: T | undefined, method: string, known: readonly string[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `${method}() takes an options object`);
  }
  checkKnownKeys(value, method, known);
  return value;
}

/** Every key of `value` is among `known` (a misspelt `dedupe_key` must not silently mean "no dedupe"). */
export function checkKnownKeys(value: object, method: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `${method}() has no option "${key}" (known: ${known.join(", ")})`);
    }
  }
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
