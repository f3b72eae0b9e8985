// The status page routes (API.md "Status pages") as the dashboard calls them, through the generated client.
import { allPages, api, call, type Schemas } from "./client";

export type StatusPage = Schemas["PageOut"];
export type StatusPageComponent = Schemas["ComponentOut"];
export type StatusPageIn = Schemas["CreatePageRequest"];
export type PostIn = Schemas["CreatePostRequest"];
export type Post = Schemas["PostOut"];
export type PostStatus = Post["status"];
/** `GET /v1/status/{slug}`: the public document, as the published status.json. */
export type PublicStatus = Schemas["PublicStatusOut"];
export type PublicComponent = Schemas["PublicComponentOut"];
export type PublicPost = Schemas["PublicPostOut"];
export type ComponentStatus = PublicStatus["status"];
export type SubscriberCount = Schemas["SubscriberCountsOut"];

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
/** The live public document, as the published page shows it (no auth needed). The route lets caches
 * keep it 30 s; the editor wants what was just saved or posted, so the browser asks every time. */
export const publicStatus = (slug: string) => call(api.GET("/v1/status/{slug}", { params: { path: { slug } }, cache: "no-cache" }));
/** `{count, confirmed, pending}` (admins). */
export const subscriberCount = (orgId: string, pageId: string) =>
  call(api.GET("/v1/orgs/{org_id}/status-pages/{page_id}/subscribers", { params: { path: one(orgId, pageId) } }));
