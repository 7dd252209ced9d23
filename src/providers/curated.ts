import { KnockerError } from "../errors.js";
import { Provider } from "./provider.js";

/** Schema of one curated provider option. */
export type OptionSpec =
  | { type: "seconds"; default: number }
  | { type: "string"; required: boolean; default?: string }
  | { type: "url"; required: boolean };

export const seconds = (defaultValue: number): OptionSpec => ({ type: "seconds", default: defaultValue });
export const optionalString = (defaultValue?: string): OptionSpec =>
  defaultValue === undefined ? { type: "string", required: false } : { type: "string", required: false, default: defaultValue };
export const requiredUrl = (): OptionSpec => ({ type: "url", required: true });

/** Base of the 21 built-ins: fixed version, secrets required, options checked against a schema. */
export abstract class CuratedProvider extends Provider {
  readonly version = "1.0.0";
  override readonly optionKeys: readonly string[];
  readonly #specs: Readonly<Record<string, OptionSpec>>;

  constructor(specs: Record<string, OptionSpec> = {}) {
    super();
    this.#specs = specs;
    this.optionKeys = Object.keys(specs);
  }

  override validateOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const resolved: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(this.#specs)) {
      const value = options[key];
      if (value === undefined) {
        if (spec.type !== "seconds" && spec.required) throw this.#optionError(key, "is required");
        if ("default" in spec && spec.default !== undefined) resolved[key] = spec.default;
        continue;
      }
      resolved[key] = this.#checkValue(key, spec, value);
    }
    return resolved;
  }

  #checkValue(key: string, spec: OptionSpec, value: unknown): unknown {
    switch (spec.type) {
      case "seconds":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
          throw this.#optionError(key, "must be a non-negative integer number of seconds");
        }
        return value;
      case "string":
        if (typeof value !== "string" || value.length === 0) throw this.#optionError(key, "must be a non-empty string");
        return value;
      case "url":
        if (typeof value !== "string" || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
          throw this.#optionError(key, "must be an absolute http(s) URL");
        }
        return value;
    }
  }

  #optionError(key: string, problem: string): KnockerError {
    return new KnockerError("ERR_INVALID_PROVIDER_OPTION", `${this.name} provider option "${key}" ${problem}`);
  }
}
