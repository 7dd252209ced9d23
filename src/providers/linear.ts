import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class LinearProvider extends CuratedProvider {
  readonly name = "linear";

  verify(): ProviderResult {
    return ProviderResult.reject("linear provider not implemented yet");
  }
}
