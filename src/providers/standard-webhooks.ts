import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class StandardWebhooksProvider extends CuratedProvider {
  readonly name = "standard-webhooks";

  verify(): ProviderResult {
    return ProviderResult.reject("standard-webhooks provider not implemented yet");
  }
}
