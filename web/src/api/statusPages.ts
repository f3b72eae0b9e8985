// The status page routes (API.md "Status pages") as the dashboard calls them: the admin routes through
// the generated client; the public document and the subscriber count (served by routes on other
// branches) by path until the client knows them.
import { allPages, api, ApiError, call, errorMessage, type Schemas } from "./client";
import { currentAccessToken, expiresSoon, refreshSession } from "./session";

export type ComponentStatus = "operational" | "degraded_performance" | "partial_outage" | "major_outage" | "under_maintenance";
export type StatusPage = Schemas["PageOut"];
export type StatusPageComponent = Schemas["ComponentOut"];
export type StatusPageIn = Schemas["CreatePageRequest"];
export type PostIn = Schemas["CreatePostRequest"];
export type Post = Schemas["PostOut"];
export type PostStatus = Post["status"];
/** A post as the public document shows it. */
export type PublicPost = Pick<Post, "id" | "title" | "status" | "message" | "created_at" | "component_ids">;
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
  posts: PublicPost[];
  maintenances: { title: string; state: string; starts_at: string; ends_at: string; component_ids: string[] }[];
  updated_at: string;
}
export interface SubscriberCount {
  count: number;
  confirmed: number;
  pending: number;
}

async function get<T>(path: string): Promise<T> {
  if (expiresSoon()) await refreshSession();
  const token = currentAccessToken();
  let response: Response;
  try {
    response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch {
    throw new ApiError(0, "Vigil cannot be reached. Check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorMessage(data, response.status));
  return data as T;
}

const org = (orgId: string) => ({ org_id: orgId });
const one = (orgId: string, pageId: string) => ({ org_id: orgId, page_id: pageId });

export const listStatusPages = (orgId: string) =>
  allPages((cursor) => call(api.GET("/v1/orgs/{org_id}/status-pages", { params: { path: org(orgId), query: { limit: 100, cursor } } })));
export const getStatusPage = (orgId: string, pageId: string) =>
  call(api.GET("/v1/orgs/{org_id}/status-pages/{page_id}", { params: { path: one(orgId, pageId) } }));
export const createStatusPage = (orgId: string, body: StatusPageIn) =>
  call(api.POST("/v1/orgs/{org_id}/status-pages", { params: { path: org(orgId) }, body }));
export const updateStatusPage = (orgId: string, pageId: string, body: Schemas["UpdatePageRequest"]) =>
  call(api.PATCH("/v1/orgs/{org_id}/status-pages/{page_id}", { params: { path: one(orgId, pageId) }, body }));
export const deleteStatusPage = (orgId: string, pageId: string) =>
  call(api.DELETE("/v1/orgs/{org_id}/status-pages/{page_id}", { params: { path: one(orgId, pageId) } }));
export const createPost = (orgId: string, pageId: string, body: PostIn) =>
  call(api.POST("/v1/orgs/{org_id}/status-pages/{page_id}/posts", { params: { path: one(orgId, pageId) }, body }));
/** The page's posts, newest first (follow-ups included). */
export const listPosts = (orgId: string, pageId: string) =>
  allPages((cursor) => call(api.GET("/v1/orgs/{org_id}/status-pages/{page_id}/posts", { params: { path: one(orgId, pageId), query: { limit: 100, cursor } } })));
/** A follow-up of a post's story: a new post in its thread. */
export const followUp = (orgId: string, pageId: string, postId: string, body: Schemas["PostUpdateRequest"]) =>
  call(api.POST("/v1/orgs/{org_id}/status-pages/{page_id}/posts/{post_id}/updates", { params: { path: { ...one(orgId, pageId), post_id: postId } }, body }));
/** The live public document, as the published page shows it (no auth needed). */
export const publicStatus = (slug: string) => get<PublicStatus>(`/v1/status/${encodeURIComponent(slug)}`);
export const subscriberCount = (orgId: string, pageId: string) =>
  get<SubscriberCount>(`/v1/orgs/${encodeURIComponent(orgId)}/status-pages/${encodeURIComponent(pageId)}/subscribers`);
