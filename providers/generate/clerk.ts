// Clerk vectors (Svix-signed): made and checked with svix@1.99.1 (see svix-vectors.ts).
// Run: npx tsx providers/generate/clerk.ts
import { svixVectors } from "./svix-vectors.js";
import { writeVectors } from "./write-vectors.js";

const user = (type: string, lastName: string) => JSON.stringify({
  data: {
    id: "user_29w83sxmDNGwOuEthce5gg56FcC",
    object: "user",
    first_name: "Example",
    last_name: lastName,
    email_addresses: [{ id: "idn_29w83yL7CwVlJXylYLxcslromF1", email_address: "example@example.org", object: "email_address" }],
    primary_email_address_id: "idn_29w83yL7CwVlJXylYLxcslromF1",
    created_at: 1699999990000,
    updated_at: 1699999997000,
  },
  instance_id: "ins_2Ka1b2c3d4e5f6g7h8",
  object: "event",
  timestamp: 1699999998000,
  type,
});

writeVectors("clerk", svixVectors({
  provider: "clerk",
  secret: "whsec_K1m2N3o4P5q6R7s8T9u0V1w2X3y4Z5a6",
  oldSecret: "whsec_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4",
  msgId: "msg_2YpQk3B4tXw8Nf5Ue7Hc1dVr9Lz",
  body: user("user.created", "User"),
  tamper: (body) => body.replace("example@", "attacker@"),
  eventType: "user.created",
  now: 1700000000,
  extra: [[
    "same-user-other-event",
    "user.updated for the same user id (data.id): another svix-id, so another event",
    "msg_2YpQmC6vZa1Pg7Wf9Jd3eXs0Nb",
    user("user.updated", "Renamed"),
    "user.updated",
  ]],
}));
