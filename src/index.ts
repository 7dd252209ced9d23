export { open, Knocker, Endpoint } from "./knocker.js";
export { KnockerError, type KnockerErrorCode } from "./errors.js";
export { RetentionPolicy } from "./retention/policy.js";
export {
  Provider, ProviderRequest, ProviderResult,
  type ProviderMetadata, type ProviderReply, type AcceptOptions, type RejectOptions, type VerifyContext,
} from "./providers/provider.js";
export type { BodyMac, MacAlgorithm } from "./providers/body-mac.js";
export type * from "./interfaces.js";
export type { KnockerEventMap, KnockerEventName, KnockerListener } from "./observer.js";
