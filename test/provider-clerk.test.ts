import { ClerkProvider } from "../src/providers/clerk.js";
import { NOW } from "./provider-kit.js";
import { svixProviderSuite } from "./support/svix-provider-suite.js";

const SECRET = "whsec_K1m2N3o4P5q6R7s8T9u0V1w2X3y4Z5a6";
const event = (type: string, userId = "user_29w83sxmDNGwOuEthce5gg56FcC") =>
  JSON.stringify({ data: { id: userId, object: "user", first_name: "Example", last_name: type }, instance_id: "ins_2Ka1b2c3d4", object: "event", timestamp: NOW * 1000, type });

svixProviderSuite({ name: "clerk", Provider: ClerkProvider, secret: SECRET, event: (type) => event(type), firstType: "user.created", secondType: "user.updated", subject: "user", objectField: "data.id" });
