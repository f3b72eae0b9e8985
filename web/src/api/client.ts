// The one way the app talks to Vigil: openapi-fetch over the types generated from /openapi.json, with a
// middleware that carries the access token, renews it before expiry and sends a 401 to the login page.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { currentAccessToken, endSession, expiresSoon, refreshSession } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the API answers 401 to a logged-in request; the router sends the user to log in. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

const auth: Middleware = {
  async onRequest({ request }) {
    if (new URL(request.url).pathname.startsWith("/v1/auth/")) return request;
    if (expiresSoon()) await refreshSession();
    const token = currentAccessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has("Authorization")) {
      endSession();
      onUnauthorized();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

/** The API's own words for a failed request: `{"Code": ..., "Message": ...}` → "Message". */
export function errorMessage(error: unknown, status: number): string {
  if (error && typeof error === "object" && "Message" in error) return String(error.Message);
  return `The request failed (HTTP ${status}).`;
}

/** The data of a successful call, or an ApiError carrying the API's message. */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await pending;
  } catch {
    throw new ApiError(0, "Vigil cannot be reached. Check your connection and try again.");
  }
  if (!result.response.ok) throw new ApiError(result.response.status, errorMessage(result.error, result.response.status));
  return result.data as T;
}

/** A GET of a route the generated client does not know yet (one added on another branch); same auth. */
export async function getUntyped<T>(path: string): Promise<T> {
  if (expiresSoon()) await refreshSession();
  const token = currentAccessToken();
  const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && token) {
      endSession();
      onUnauthorized();
    }
    throw new ApiError(response.status, errorMessage(body, response.status));
  }
  return body as T;
}

/** A POST to such a route. */
export async function postUntyped<T>(path: string, body: unknown = {}): Promise<T> {
  if (expiresSoon()) await refreshSession();
  const token = currentAccessToken();
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorMessage(data, response.status));
  return data as T;
}

export type Schemas = import("./schema").components["schemas"];

/** Every item of a paged list, 100 a page (one request for most lists). */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    items.push(...result.items);
    cursor = result.next_cursor ?? undefined;
  } while (cursor);
  return items;
}
