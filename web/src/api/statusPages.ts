// The status page routes (API.md "Status pages") as the dashboard calls them.
import { ApiError, errorMessage } from "./client";
import { currentAccessToken, expiresSoon, refreshSession } from "./session";

export type ComponentStatus = "operational" | "degraded_performance" | "partial_outage" | "major_outage" | "under_maintenance";
export type PostStatus = "investigating" | "identified" | "monitoring" | "resolved";

export interface StatusPageComponent {
  id: string;
  name: string;
  service_id: string;
  group?: string | null;
}
export interface StatusPage {
  id: string;
  slug: string;
  title: string;
  description?: string | null;
  components: StatusPageComponent[];
}
export interface StatusPageIn {
  slug: string;
  title: string;
  description?: string;
  components: { name: string; service_id: string; group?: string }[];
}
export interface PostIn {
  title: string;
  status: PostStatus;
  message: string;
  component_ids?: string[];
  incident_id?: string;
}
export interface Post {
  id: string;
  title: string;
  status: PostStatus;
  message: string;
  created_at: string;
  component_ids: string[];
}
export interface PublicComponent {
  id: string;
  name: string;
  group: string | null;
  status: ComponentStatus;
  uptime_percentage_90d: number | null;
  uptime_90d: { date: string; uptime_percentage: number | null }[];
}
export interface PublicStatus {
  slug: string;
  title: string;
  description: string | null;
  status: ComponentStatus;
  components: PublicComponent[];
  posts: Post[];
  maintenances: { title: string; state: string; starts_at: string; ends_at: string; component_ids: string[] }[];
  updated_at: string;
}
export interface SubscriberCount {
  count: number;
  confirmed: number;
  pending: number;
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (expiresSoon()) await refreshSession();
  const token = currentAccessToken();
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "Vigil cannot be reached. Check your connection and try again.");
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorMessage(data, response.status));
  return data as T;
}

const pages = (orgId: string) => `/v1/orgs/${encodeURIComponent(orgId)}/status-pages`;
const one = (orgId: string, pageId: string) => `${pages(orgId)}/${encodeURIComponent(pageId)}`;

export async function listStatusPages(orgId: string): Promise<StatusPage[]> {
  const items: StatusPage[] = [];
  let cursor: string | null | undefined;
  do {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const page = await send<{ items: StatusPage[]; next_cursor?: string | null }>("GET", `${pages(orgId)}?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
export const getStatusPage = (orgId: string, pageId: string) => send<StatusPage>("GET", one(orgId, pageId));
export const createStatusPage = (orgId: string, body: StatusPageIn) => send<StatusPage>("POST", pages(orgId), body);
export const updateStatusPage = (orgId: string, pageId: string, body: Partial<StatusPageIn>) => send<StatusPage>("PATCH", one(orgId, pageId), body);
export const deleteStatusPage = (orgId: string, pageId: string) => send<null>("DELETE", one(orgId, pageId));
export const createPost = (orgId: string, pageId: string, body: PostIn) => send<Post>("POST", `${one(orgId, pageId)}/posts`, body);
/** The live public document, as the published page shows it (no auth needed). */
export const publicStatus = (slug: string) => send<PublicStatus>("GET", `/v1/status/${encodeURIComponent(slug)}`);
export const subscriberCount = (orgId: string, pageId: string) => send<SubscriberCount>("GET", `${one(orgId, pageId)}/subscribers`);
