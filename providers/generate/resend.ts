// Resend vectors (Svix-signed): made and checked with svix@1.99.1 (see svix-vectors.ts).
// Run: npx tsx providers/generate/resend.ts
import { svixVectors } from "./svix-vectors.js";
import { writeVectors } from "./write-vectors.js";

const email = (type: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  type,
  created_at: "2023-11-14T22:13:18.126Z",
  data: {
    created_at: "2023-11-14T22:13:10.000Z",
    email_id: "56761188-7520-42d8-8898-ff6fc54ce618",
    from: "Acme <onboarding@acme.dev>",
    to: ["delivered@resend.dev"],
    subject: "Your invoice #8841",
    ...extra,
  },
});

writeVectors("resend", svixVectors({
  provider: "resend",
  secret: "whsec_rD3m8kTq2vYw9xZ1aB4cE6fG8hJ0kL2n",
  oldSecret: "whsec_pQ7sT9uV1wX3yZ5aB7cD9eF1gH3iJ5kL",
  msgId: "msg_2bHQnXkGQq0YvB8RZp3cT4eS9wF",
  body: email("email.delivered"),
  tamper: (body) => body.replace("delivered@", "attacker@"),
  eventType: "email.delivered",
  now: 1700000000,
  extra: [[
    "same-email-other-event",
    "email.opened for the same email_id: another svix-id, so another event",
    "msg_2bHQoA1pLk7uWcE5nR8tY2dM4vZ",
    email("email.opened"),
    "email.opened",
  ]],
}));
