import { CuratedProvider } from "./curated.js";
import { ProviderResult } from "./provider.js";

// PLACEHOLDER: replaced by the real implementation in the providers issue.
export class ShopifyProvider extends CuratedProvider {
  readonly name = "shopify";

  verify(): ProviderResult {
    return ProviderResult.reject("shopify provider not implemented yet");
  }
}
