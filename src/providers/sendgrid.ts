import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class SendgridProvider extends CuratedProvider {
  readonly name = "sendgrid";

  verify(): ProviderResult {
    return ProviderResult.reject("sendgrid provider not implemented yet");
  }
}
