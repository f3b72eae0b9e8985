// The org's live lists, read through the generated client and kept current by the event stream.
import type { Ref } from "vue";
import { allPages, api, call, type Schemas } from "../api/client";
import type { paths } from "../api/schema";
import { useLiveList } from "../live/useLiveList";

export type Service = Schemas["ServiceOut"];
export type Incident = Schemas["IncidentOut"];
export const UNRESOLVED = ["open", "acknowledged", "snoozed"] as const;

export function useServices(orgId: Ref<string>) {
  return useLiveList<Service>(orgId, "service", () =>
    allPages((cursor) =>
      call(api.GET("/v1/orgs/{org_id}/services", { params: { path: { org_id: orgId.value }, query: { limit: 100, cursor } } })),
    ),
  );
}

type IncidentQuery = NonNullable<paths["/v1/orgs/{org_id}/incidents"]["get"]["parameters"]["query"]>;

/** The incidents page's filters as its selects hold them (the API answers 400 to a value it does not
 * know); `status` may also be "unresolved": open, acknowledged or snoozed. */
export interface IncidentFilter {
  status?: string;
  severity?: string;
  service_id?: string;
}

function incidentPage(orgId: string, filter: IncidentFilter) {
  return call(
    api.GET("/v1/orgs/{org_id}/incidents", {
      params: { path: { org_id: orgId }, query: { limit: 100, ...(filter as IncidentQuery) } },
    }),
  ).then((page) => page.items);
}

/** Incidents matching `filter`, newest first; `status: "unresolved"` means open, acknowledged or snoozed
 * (one request per status: the API filters on one). */
export function useIncidents(orgId: Ref<string>, filter: () => IncidentFilter) {
  const matches = (incident: Incident) => {
    const f = filter();
    const statusOk = !f.status || (f.status === "unresolved" ? UNRESOLVED.includes(incident.status as never) : incident.status === f.status);
    return statusOk && (!f.severity || incident.severity === f.severity) && (!f.service_id || incident.service_id === f.service_id);
  };
  return useLiveList<Incident>(
    orgId,
    "incident",
    async () => {
      const f = filter();
      if (f.status !== "unresolved") return incidentPage(orgId.value, f);
      const pages = await Promise.all(UNRESOLVED.map((status) => incidentPage(orgId.value, { ...f, status })));
      return pages.flat().sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    },
    matches,
  );
}
