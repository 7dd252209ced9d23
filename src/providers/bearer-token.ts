import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class BearerTokenProvider extends CuratedProvider {
  readonly name = "bearer-token";

  verify(): ProviderResult {
    return ProviderResult.reject("bearer-token provider not implemented yet");
  }
}
