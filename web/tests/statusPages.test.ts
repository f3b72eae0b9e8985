import { describe, expect, it } from "vitest";
import { componentNames, componentsBody, draftOf, grouped, moved, postFromIncident, slugOf } from "../src/statusPages";
import { document, page } from "./fixtures/statusPages";

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

  it("sends the editor's rows in their order, trimmed, without empty groups", () => {
    const rows = page.components.map(draftOf);
    rows[0].name = "  Website ";
    expect(componentsBody(moved(rows, 0, 1))).toEqual([
      { name: "API", service_id: "svc-api", group: "Platform" },
      { name: "Website", service_id: "svc-web" },
      { name: "Storage", service_id: "svc-db", group: "Platform" },
    ]);
  });

  it("makes a slug of a title", () => {
    expect(slugOf("Acme Cloud — Status!")).toBe("acme-cloud-status");
    expect(slugOf("Café Ünïcode")).toBe("cafe-unicode");
  });

  it("prefills an update from an incident: investigating, the components of its service", () => {
    const draft = postFromIncident({ title: "db-7 OOM killed on prod-eu", service_id: "svc-api" }, page.components);
    expect(draft).toEqual({ title: "db-7 OOM killed on prod-eu", status: "investigating", message: "", component_ids: ["cmp-api"] });
    expect(postFromIncident({ title: "x", service_id: null }, page.components).component_ids).toEqual([]);
  });

  it("names a post's components, skipping removed ones", () => {
    expect(componentNames({ component_ids: ["cmp-db", "gone", "cmp-web"] }, document.components)).toEqual(["Storage", "Website"]);
  });
});
