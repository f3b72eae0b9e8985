import { describe, expect, it } from "vitest";
import { componentNames, dayStatus, componentsBody, draftOf, followUpDraft, grouped, latestOfThreads, moved, nextStatus, openStoryOf, postFromIncident, slugOf } from "../src/statusPages";
import { document, page, post, posts } from "./fixtures/statusPages";

describe("status page helpers", () => {
  it("moves a component one place and leaves the list alone at either end", () => {
    const list = ["a", "b", "c"];
    expect(moved(list, 1, -1)).toEqual(["b", "a", "c"]);
    expect(moved(list, 1, 1)).toEqual(["a", "c", "b"]);
    expect(moved(list, 0, -1)).toBe(list);
    expect(moved(list, 2, 1)).toBe(list);
  });

  it("groups as the public page does: ungrouped first, then each group where its first component stands", () => {
    const runs = grouped([
      { name: "A", group: "Platform" },
      { name: "B", group: null },
      { name: "C", group: "Edge" },
      { name: "D", group: "Platform" },
      { name: "E", group: "" },
    ]);
    expect(runs.map((r) => [r.group, r.components.map((c) => c.name)])).toEqual([
      [null, ["B", "E"]],
      ["Platform", ["A", "D"]],
      ["Edge", ["C"]],
    ]);
  });

  it("sends the editor's rows in their order, trimmed, without empty groups, saved ones with their id", () => {
    const rows = [...page.components.map(draftOf), draftOf({ name: "Search", service_id: "svc-x" })];
    rows[0].name = "  Website ";
    expect(componentsBody(moved(rows, 0, 1))).toEqual([
      { id: "cmp-api", name: "API", service_id: "svc-api", group: "Platform" },
      { id: "cmp-web", name: "Website", service_id: "svc-web" },
      { id: "cmp-db", name: "Storage", service_id: "svc-db", group: "Platform" },
      { name: "Search", service_id: "svc-x" },
    ]);
  });

  it("makes a slug of a title", () => {
    expect(slugOf("Acme Cloud — Status!")).toBe("acme-cloud-status");
    expect(slugOf("Café Ünïcode")).toBe("cafe-unicode");
    expect(slugOf(`${"a".repeat(47)} b`)).toBe("a".repeat(47)); // 48 at most, no "-" at the end
  });

  it("prefills an update from an incident: investigating, the components of its service", () => {
    const draft = postFromIncident({ title: "db-7 OOM killed on prod-eu", service_id: "svc-api" }, page.components);
    expect(draft).toEqual({ title: "db-7 OOM killed on prod-eu", status: "investigating", message: "", component_ids: ["cmp-api"] });
    expect(postFromIncident({ title: "x", service_id: null }, page.components).component_ids).toEqual([]);
  });

  it("names a post's components, skipping removed ones", () => {
    expect(componentNames({ component_ids: ["cmp-db", "gone", "cmp-web"] }, document.components)).toEqual(["Storage", "Website"]);
  });

  it("follows a story up: its newest post, the next stage, and an incident's open story", () => {
    expect(["investigating", "identified", "monitoring", "resolved"].map((s) => nextStatus(s as never))).toEqual(["identified", "monitoring", "resolved", "resolved"]);
    const other = post({ id: "post-9", thread_id: "post-9", title: "Slow search", status: "monitoring", created_at: "2026-12-01T06:20:00Z" });
    const all = [other, ...posts];
    expect(latestOfThreads(all).map((p) => p.id)).toEqual(["post-9", "post-2"]);
    expect(followUpDraft(posts[0])).toEqual({ title: "API errors", status: "monitoring", message: "", component_ids: ["cmp-api"] });
    expect(openStoryOf(all, "inc-1")?.id).toBe("post-2");
    expect(openStoryOf([post({ id: "post-3", thread_id: "post-1", status: "resolved", incident_id: "inc-1" }), ...all], "inc-1")).toBeNull();
    expect(openStoryOf(all, "inc-2")).toBeNull();
  });

  it("colours a day as the published page does", () => {
    expect([null, 100, 99.9, 99.5, 99, 97, 95, 94.99, 0].map(dayStatus)).toEqual([
      "no-data", "operational", "operational", "degraded_performance", "degraded_performance",
      "partial_outage", "partial_outage", "major_outage", "major_outage",
    ]);
  });
});
