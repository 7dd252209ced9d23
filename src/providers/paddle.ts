import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class PaddleProvider extends CuratedProvider {
  readonly name = "paddle";

  verify(): ProviderResult {
    return ProviderResult.reject("paddle provider not implemented yet");
  }
}
