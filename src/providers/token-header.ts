import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class TokenHeaderProvider extends CuratedProvider {
  readonly name = "token-header";

  verify(): ProviderResult {
    return ProviderResult.reject("token-header provider not implemented yet");
  }
}
