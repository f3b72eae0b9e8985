import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import ComponentsEditor from "../src/components/status/ComponentsEditor.vue";
import PostUpdateForm from "../src/components/status/PostUpdateForm.vue";
import StatusPreview from "../src/components/status/StatusPreview.vue";
import { draftOf, emptyPost, postFromIncident, type ComponentDraft } from "../src/statusPages";
import { document, page, services } from "./fixtures/statusPages";

/** The editor with its v-model wired as a parent would. */
function editor(initial: ComponentDraft[], disabled = false) {
  const wrapper = mount(ComponentsEditor, {
    attachTo: document_body(),
    props: { modelValue: initial, services, disabled, "onUpdate:modelValue": (list: ComponentDraft[]) => wrapper.setProps({ modelValue: list }) },
  });
  return wrapper;
}
const document_body = () => {
  const host = window.document.createElement("div");
  window.document.body.append(host);
  return host;
};
const names = (wrapper: ReturnType<typeof editor>) => wrapper.props("modelValue").map((c: ComponentDraft) => c.name);
const button = (wrapper: ReturnType<typeof editor>, name: string) => wrapper.findAll("button").find((b) => b.text().replace(/\s+/g, " ") === name)!;

describe("ComponentsEditor", () => {
  it("adds a service as a component named after it, in the last row's group", async () => {
    const wrapper = editor([draftOf({ ...page.components[1] })]);
    await wrapper.get("#ce-add-service").setValue("svc-db");
    await button(wrapper, "Add component").trigger("click");
    expect(wrapper.props("modelValue").map((c: ComponentDraft) => [c.name, c.service_id, c.group])).toEqual([
      ["API", "svc-api", "Platform"],
      ["Database", "svc-db", "Platform"],
    ]);
    expect(wrapper.get("[role=status]").text()).toBe("Database added as component 2.");
  });

  it("reorders with buttons that keep the keyboard focus on the moved row", async () => {
    const wrapper = editor(page.components.map(draftOf));
    const down = button(wrapper, "Move Website down");
    (down.element as HTMLButtonElement).focus();
    await down.trigger("click");
    await wrapper.vm.$nextTick();
    expect(names(wrapper)).toEqual(["API", "Website", "Storage"]);
    expect(window.document.activeElement?.textContent?.replace(/\s+/g, " ").trim()).toBe("Move Website down");
    await button(wrapper, "Move Website down").trigger("click");
    await wrapper.vm.$nextTick();
    expect(names(wrapper)).toEqual(["API", "Storage", "Website"]);
    // At the bottom "down" is disabled: the focus goes to "up" of the same row.
    expect((button(wrapper, "Move Website down").element as HTMLButtonElement).disabled).toBe(true);
    expect(window.document.activeElement?.textContent?.replace(/\s+/g, " ").trim()).toBe("Move Website up");
    expect(wrapper.get("[role=status]").text()).toBe("Website moved to position 3 of 3.");
    expect((button(wrapper, "Move API up").element as HTMLButtonElement).disabled).toBe(true);
    wrapper.unmount();
  });

  it("edits a row's name and group, removes a row, and locks everything when disabled", async () => {
    const wrapper = editor(page.components.map(draftOf));
    const [first] = wrapper.props("modelValue") as ComponentDraft[];
    await wrapper.get(`#${first.key}-group`).setValue("Front");
    await wrapper.get(`#${first.key}-name`).setValue("Shop");
    expect(wrapper.props("modelValue")[0]).toMatchObject({ name: "Shop", group: "Front", service_id: "svc-web" });
    expect(wrapper.findAll("legend").map((l) => l.text())).toContain("Component 1: Shop");
    await button(wrapper, "Remove API").trigger("click");
    expect(names(wrapper)).toEqual(["Shop", "Storage"]);
    await wrapper.setProps({ disabled: true });
    expect(wrapper.get("fieldset").attributes("disabled")).toBeDefined();
  });
});

describe("PostUpdateForm", () => {
  const components = page.components.map((c) => ({ id: c.id, name: c.name }));

  it("says posts are public and asks to rewrite the incident's internal title until it is", async () => {
    const title = "db-7 OOM killed on prod-eu";
    const wrapper = mount(PostUpdateForm, { props: { components, initial: postFromIncident({ title, service_id: "svc-api" }, page.components), internalTitle: title } });
    expect(wrapper.text()).toContain("Posts are public");
    expect(wrapper.text()).toContain("still the incident's internal title");
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("investigating");
    const checked = wrapper.findAll("input[type=checkbox]").filter((c) => (c.element as HTMLInputElement).checked);
    expect(checked.map((c) => c.attributes("value"))).toEqual(["cmp-api"]);

    await wrapper.get("input:not([type])").setValue("Payments are failing for some customers");
    expect(wrapper.text()).not.toContain("still the incident's internal title");
    await wrapper.get("textarea").setValue("We are looking into it.");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")?.[0][0]).toEqual({
      title: "Payments are failing for some customers",
      status: "investigating",
      message: "We are looking into it.",
      component_ids: ["cmp-api"],
    });
  });

  it("starts empty on a page editor and is reset when the parent hands a new draft", async () => {
    const wrapper = mount(PostUpdateForm, { props: { components, initial: emptyPost() } });
    expect(wrapper.text()).not.toContain("internal title");
    await wrapper.get("input:not([type])").setValue("Scheduled work done");
    await wrapper.get("select").setValue("resolved");
    await wrapper.setProps({ initial: emptyPost() });
    expect((wrapper.get("input:not([type])").element as HTMLInputElement).value).toBe("");
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("investigating");
  });
});

describe("StatusPreview", () => {
  it("shows the page as the public does: overall status, groups, 90 days per component, the posts", () => {
    const wrapper = mount(StatusPreview, { props: { document } });
    expect(wrapper.get("[data-testid=overall]").text()).toBe("Major outage");
    const sections = wrapper.findAll("section");
    expect(sections.map((s) => s.attributes("aria-label"))).toEqual(["Components", "Platform"]);
    expect(sections[1].findAll("li").map((li) => li.attributes("data-component"))).toEqual(["API", "Storage"]);
    const api = wrapper.get("[data-component=API]");
    expect(api.text()).toContain("Major outage");
    expect(api.findAll(".uptime-days span")).toHaveLength(90);
    expect(api.get("[role=img]").attributes("aria-label")).toBe("API, last 90 days: 99.20% up; 1 days below 99.9%, 10 without data");
    expect(api.get(".uptime-days span").attributes("title")).toMatch(/no data$/);
    const posts = wrapper.findAll("[data-post]");
    expect(posts.map((p) => p.text())).toEqual([expect.stringContaining("identified"), expect.stringContaining("investigating")]);
    expect(posts[0].text()).toContain("A bad deploy; rolling back.");
    expect(posts[0].text()).toContain("API");
  });

  it("says so when nothing is posted and no component is on the page", () => {
    const wrapper = mount(StatusPreview, { props: { document: { ...document, status: "operational", components: [], posts: [] } } });
    expect(wrapper.text()).toContain("All systems operational");
    expect(wrapper.text()).toContain("No components yet.");
    expect(wrapper.text()).toContain("No updates posted.");
  });
});
