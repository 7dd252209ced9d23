import type { FrontDoor, HttpAnswer } from "./front-door.js";
import { readRequestBody } from "./read-body.js";

/**
 * `webhooks.fetch(request)`: the Web-standard handler (Hono, Next.js route handlers, any
 * fetch-style server). Routes by the full URL path; an unknown path answers 404.
 * Rejects with ERR_BODY_PARSED when the Request's body was already read.
 */
export async function handleFetch(door: FrontDoor, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const answer = await door.answer({
    method: request.method,
    path: url.pathname,
    search: url.search,
    endpointPath: url.pathname,
    headers: request.headers,
    readBody: (limits) => readRequestBody(request, limits),
  });
  return toResponse(answer);
}

function toResponse({ status, headers, body }: HttpAnswer): Response {
  return new Response(body, { status, headers });
}
