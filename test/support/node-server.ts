// A Knocker behind its own node:http server on 127.0.0.1, for the tests that need real HTTP.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Knocker } from "../../src/index.js";

export interface ServedInbox {
  webhooks: Knocker;
  port: number;
  /** Drop open connections, stop the server, close the inbox. */
  close(): Promise<void>;
}

export async function serveInbox(webhooks: Knocker): Promise<ServedInbox> {
  const handler = webhooks.nodeHandler();
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    webhooks,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await webhooks.close();
    },
  };
}
