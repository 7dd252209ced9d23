import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class IntercomProvider extends CuratedProvider {
  readonly name = "intercom";

  verify(): ProviderResult {
    return ProviderResult.reject("intercom provider not implemented yet");
  }
}
