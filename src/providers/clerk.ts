import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class ClerkProvider extends CuratedProvider {
  readonly name = "clerk";

  verify(): ProviderResult {
    return ProviderResult.reject("clerk provider not implemented yet");
  }
}
