import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class LemonSqueezyProvider extends CuratedProvider {
  readonly name = "lemon-squeezy";

  verify(): ProviderResult {
    return ProviderResult.reject("lemon-squeezy provider not implemented yet");
  }
}
