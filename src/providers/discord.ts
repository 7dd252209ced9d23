import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class DiscordProvider extends CuratedProvider {
  readonly name = "discord";

  verify(): ProviderResult {
    return ProviderResult.reject("discord provider not implemented yet");
  }
}
