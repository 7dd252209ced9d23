import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class ResendProvider extends CuratedProvider {
  readonly name = "resend";

  verify(): ProviderResult {
    return ProviderResult.reject("resend provider not implemented yet");
  }
}
