// Shared by the dashboard tests: a real node:http server in front of `dashboard.node`, form
// helpers for the CSRF flow, and a real headless Chromium (@sparticuz/chromium, driven by
// puppeteer-core) started once per test file.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { DashboardHandler } from "../../src/index.js";

export interface Served {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** `handler.node` on 127.0.0.1, a free port. */
export async function serve(handler: DashboardHandler): Promise<Served> {
  const server = createServer((req, res) => void handler.node(req, res).catch(() => undefined));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The CSRF cookie a page set, and the form token it rendered. */
export async function formSession(handler: DashboardHandler, pageUrl: string, init: RequestInit = {}): Promise<{ cookie: string; csrf: string; html: string }> {
  const response = await handler(new Request(pageUrl, init));
  assert.equal(response.status, 200, `GET ${pageUrl}`);
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith("knocker_csrf="));
  assert.ok(setCookie, "the page sets the CSRF cookie");
  const html = await response.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, "the page has a form with the CSRF token");
  return { cookie: setCookie.split(";")[0]!, csrf, html };
}

/** A form POST as a browser on the dashboard's own page would send it. */
export function formPost(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Request {
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
    defaultViewport: { width: 1280, height: 900 },
  });
}

/** What an instrumented page saw: dialogs opened, globals an injected script set, CSP violations. */
export interface Watch {
  dialogs: string[];
  errors: string[];
  violations: string[];
}

/**
 * Before any script of the page runs: every dialog is recorded (and dismissed), and a
 * `securitypolicyviolation` listener records what the CSP blocked. An XSS payload that runs sets
 * `window.__xss` or opens a dialog; the test checks both after each page.
 */
export async function instrument(page: Page): Promise<Watch> {
  const watch: Watch = { dialogs: [], errors: [], violations: [] };
  page.on("dialog", (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => watch.errors.push(String(error)));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const list = ((window as unknown as { __violations?: string[] }).__violations ??= []);
      list.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return watch;
}
