import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class SlackProvider extends CuratedProvider {
  readonly name = "slack";

  verify(): ProviderResult {
    return ProviderResult.reject("slack provider not implemented yet");
  }
}
