import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class ZendeskProvider extends CuratedProvider {
  readonly name = "zendesk";

  verify(): ProviderResult {
    return ProviderResult.reject("zendesk provider not implemented yet");
  }
}
