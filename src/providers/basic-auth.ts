import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class BasicAuthProvider extends CuratedProvider {
  readonly name = "basic-auth";

  verify(): ProviderResult {
    return ProviderResult.reject("basic-auth provider not implemented yet");
  }
}
