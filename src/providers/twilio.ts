import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class TwilioProvider extends CuratedProvider {
  readonly name = "twilio";

  verify(): ProviderResult {
    return ProviderResult.reject("twilio provider not implemented yet");
  }
}
