import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class PostmarkProvider extends CuratedProvider {
  readonly name = "postmark";

  verify(): ProviderResult {
    return ProviderResult.reject("postmark provider not implemented yet");
  }
}
