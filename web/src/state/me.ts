// The signed-in user and their orgs (with the role in each): what decides which buttons a page shows.
import { computed, ref } from "vue";
import { api, call, type Schemas } from "../api/client";

export type Role = "admin" | "user" | "viewer";
const RANK: Record<Role, number> = { viewer: 0, user: 1, admin: 2 };

export const me = ref<Schemas["Me"] | null>(null);

export async function loadMe(): Promise<Schemas["Me"]> {
  me.value = await call(api.GET("/v1/users/me"));
  return me.value;
}

export function forgetMe(): void {
  me.value = null;
}

export function roleIn(orgId: string): Role | null {
  const org = me.value?.orgs.find((o) => o.id === orgId);
  return (org?.role as Role | undefined) ?? null;
}

/** Whether the user's role in the org is at least `min`: `user` acts on services and incidents,
 * `admin` also manages members, policies and integrations. Viewers read only. */
export function can(orgId: string, min: Role): boolean {
  const role = roleIn(orgId);
  return role !== null && RANK[role] >= RANK[min];
}

export const orgs = computed(() => me.value?.orgs ?? []);
