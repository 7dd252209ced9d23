import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class MetaProvider extends CuratedProvider {
  readonly name = "meta";

  verify(): ProviderResult {
    return ProviderResult.reject("meta provider not implemented yet");
  }
}
