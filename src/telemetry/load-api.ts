import { createRequire } from "node:module";
import type * as OtelApiModule from "@opentelemetry/api";

/** `@opentelemetry/api`, an optional peer dependency: only its types are imported statically. */
export type OtelApi = typeof OtelApiModule;

let loaded: OtelApi | null | undefined;

/**
 * The app's `@opentelemetry/api`, or null when it is not installed. Loaded synchronously (open()
 * is synchronous) with require: the API keeps its registered providers on a global, so its CJS and
 * ESM builds share them.
 */
export function loadOtelApi(): OtelApi | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "MODULE_NOT_FOUND") throw error;
    loaded = null;
  }
  return loaded;
}
