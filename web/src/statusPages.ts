// Status pages in the dashboard, pure: the editor's component list (order, groups), the public
// document's grouping (the order every published file uses), and the update prefilled from an incident.
import type { Post, PostStatus, PublicComponent, PublicPost, StatusPageComponent } from "./api/statusPages";

export const POST_STATUSES: PostStatus[] = ["investigating", "identified", "monitoring", "resolved"];

/** One row of the editor: a component being edited (`id` once saved), `key` stable across moves. */
export interface ComponentDraft {
  key: string;
  id?: string;
  name: string;
  service_id: string;
  group: string;
}

let nextKey = 0;
export function draftOf(component: { id?: string; name: string; service_id: string; group?: string | null }): ComponentDraft {
  nextKey += 1;
  return { key: `c${nextKey}`, id: component.id, name: component.name, service_id: component.service_id, group: component.group ?? "" };
}

/** The API's `components` from the editor's rows: in their order, without empty groups; a saved
 * component keeps its id (and so the posts that name it). */
export function componentsBody(drafts: ComponentDraft[]): { id?: string; name: string; service_id: string; group?: string }[] {
  return drafts.map((d) => ({
    ...(d.id ? { id: d.id } : {}),
    name: d.name.trim(),
    service_id: d.service_id,
    ...(d.group.trim() ? { group: d.group.trim() } : {}),
  }));
}

/** A copy of `list` with item `index` moved by `step` (-1 up, +1 down); the same list at either end. */
export function moved<T>(list: T[], index: number, step: -1 | 1): T[] {
  const to = index + step;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return list;
  const copy = [...list];
  [copy[index], copy[to]] = [copy[to], copy[index]];
  return copy;
}

/** The public page's order: ungrouped components first, then each group where its first component
 * stands (the renderer's `ordered_components`), each run as `{group, components}`. */
export function grouped<T extends { group?: string | null }>(components: T[]): { group: string | null; components: T[] }[] {
  const runs = new Map<string | null, T[]>();
  runs.set(null, []);
  for (const component of components) {
    const group = component.group || null;
    if (!runs.has(group)) runs.set(group, []);
    runs.get(group)!.push(component);
  }
  return [...runs].filter(([, items]) => items.length).map(([group, items]) => ({ group, components: items }));
}

/** A URL slug from a title: "Acme Cloud!" → "acme-cloud" (the API's rule: 1-48 of a-z, 0-9 and "-",
 * no "-" at either end). */
export function slugOf(title: string): string {
  return title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
}

export function publicPath(slug: string): string {
  return `/status/${encodeURIComponent(slug)}`;
}

/** What a post form starts with. */
export interface PostDraft {
  title: string;
  status: PostStatus;
  message: string;
  component_ids: string[];
}

/** An update prefilled from an incident: investigating, the page's components that stand for the
 * incident's service. The title starts as the incident's (internal) one: the form asks for a rewrite. */
export function postFromIncident(
  incident: { title: string; service_id?: string | null },
  components: Pick<StatusPageComponent, "id" | "service_id">[],
): PostDraft {
  const ids = components.filter((c) => incident.service_id && c.service_id === incident.service_id).map((c) => c.id);
  return { title: incident.title, status: "investigating", message: "", component_ids: ids };
}

export function emptyPost(): PostDraft {
  return { title: "", status: "investigating", message: "", component_ids: [] };
}

/** Words for a component's or page's public status. */
export const STATUS_WORDS: Record<string, string> = {
  operational: "Operational",
  degraded_performance: "Degraded performance",
  partial_outage: "Partial outage",
  major_outage: "Major outage",
  under_maintenance: "Under maintenance",
};
export const OVERALL_WORDS: Record<string, string> = {
  operational: "All systems operational",
  degraded_performance: "Degraded performance",
  partial_outage: "Partial outage",
  major_outage: "Major outage",
  under_maintenance: "Under maintenance",
};

/** The names of a post's components on the page. */
export function componentNames(post: Pick<PublicPost, "component_ids">, components: Pick<PublicComponent, "id" | "name">[]): string[] {
  const byId = new Map(components.map((c) => [c.id, c.name]));
  return post.component_ids.map((id) => byId.get(id)).filter((name): name is string => Boolean(name));
}

/** The stage after `status` (a story moves investigating → identified → monitoring → resolved). */
export function nextStatus(status: PostStatus): PostStatus {
  return POST_STATUSES[Math.min(POST_STATUSES.indexOf(status) + 1, POST_STATUSES.length - 1)];
}

/** The newest post of each story (thread), newest story first; `posts` come newest first. */
export function latestOfThreads(posts: Post[]): Post[] {
  const seen = new Set<string>();
  return posts.filter((p) => !seen.has(p.thread_id) && Boolean(seen.add(p.thread_id)));
}

/** A follow-up of a story: its title and components, the next stage, a new message. */
export function followUpDraft(post: Pick<Post, "title" | "status" | "component_ids">): PostDraft {
  return { title: post.title, status: nextStatus(post.status), message: "", component_ids: [...post.component_ids] };
}

/** The open story an incident already has on a page (its newest post, not resolved), if any. */
export function openStoryOf(posts: Post[], incidentId: string): Post | null {
  return latestOfThreads(posts).find((p) => p.incident_id === incidentId && p.status !== "resolved") ?? null;
}

/** A day's bar as the published page colours it (the renderer's BAR_LEVELS): 99.9 % and up
 * operational, 99 % degraded, 95 % partial outage, below that major outage; no data grey. */
export function dayStatus(uptime: number | null): ComponentStatusOrNoData {
  if (uptime === null) return "no-data";
  if (uptime >= 99.9) return "operational";
  if (uptime >= 99) return "degraded_performance";
  if (uptime >= 95) return "partial_outage";
  return "major_outage";
}
export type ComponentStatusOrNoData = "operational" | "degraded_performance" | "partial_outage" | "major_outage" | "no-data";
export const DAY_LEGEND: [ComponentStatusOrNoData, string][] = [
  ["operational", "99.9% or more"],
  ["degraded_performance", "99% or more"],
  ["partial_outage", "95% or more"],
  ["major_outage", "below 95%"],
  ["no-data", "no data"],
];
