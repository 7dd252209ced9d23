import { ResendProvider } from "../src/providers/resend.js";
import { NOW } from "./provider-kit.js";
import { svixProviderSuite } from "./support/svix-provider-suite.js";

const SECRET = "whsec_rD3m8kTq2vYw9xZ1aB4cE6fG8hJ0kL2n";
const event = (type: string, emailId = "56761188-7520-42d8-8898-ff6fc54ce618") =>
  JSON.stringify({ type, created_at: "2023-11-14T22:13:18.126Z", data: { email_id: emailId, from: "Acme <onboarding@acme.dev>", to: ["delivered@resend.dev"], subject: "Your invoice" } });

svixProviderSuite({ name: "resend", Provider: ResendProvider, secret: SECRET, event: (type) => event(type), firstType: "email.sent", secondType: "email.delivered", subject: "email", objectField: "data.email_id" });
