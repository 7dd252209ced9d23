import type { Store } from "./store.js";

/**
 * Each inbox's storage engine, for the package's own command line, which needs queries the
 * operator API does not offer (stats, the id snapshot of a bulk action). Kept out of the Knocker
 * class and out of the public exports: apps go through the operator API.
 */
const engines = new WeakMap<object, Store>();

export function attachEngine(inbox: object, store: Store): void {
  engines.set(inbox, store);
}

export function engineOf(inbox: object): Store {
  const store = engines.get(inbox);
  if (store === undefined) throw new TypeError("not a Knocker inbox");
  return store;
}
