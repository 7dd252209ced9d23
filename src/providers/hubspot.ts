import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class HubspotProvider extends CuratedProvider {
  readonly name = "hubspot";

  verify(): ProviderResult {
    return ProviderResult.reject("hubspot provider not implemented yet");
  }
}
