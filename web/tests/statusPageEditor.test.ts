// The status page editor and the incident's "post an update" panel over a fake API module (the edge):
// what each role sees, what is sent, what comes back on screen.
import { flushPromises, mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { ApiError } from "../src/api/client";
import * as statusApi from "../src/api/statusPages";
import { me } from "../src/state/me";
import { document, page, services } from "./fixtures/statusPages";

vi.mock("../src/api/statusPages", () => ({
  listStatusPages: vi.fn(),
  getStatusPage: vi.fn(),
  createStatusPage: vi.fn(),
  updateStatusPage: vi.fn(),
  deleteStatusPage: vi.fn(),
  createPost: vi.fn(),
  publicStatus: vi.fn(),
  subscriberCount: vi.fn(),
}));
vi.mock("../src/api/client", async (original) => ({
  ...(await original<typeof import("../src/api/client")>()),
  api: { GET: vi.fn(async () => ({ data: { items: services, next_cursor: null }, response: { ok: true } })) },
}));

const fake = vi.mocked(statusApi);
const ORG = "org-1";

function signIn(role: "admin" | "user" | "viewer") {
  me.value = { id: "u1", email: "a@example.com", name: "A", email_verified: true, created_at: "2026-01-01T00:00:00Z", orgs: [{ id: ORG, name: "Acme", role }] } as never;
}

async function open(path: string) {
  const { default: Editor } = await import("../src/pages/StatusPageEditorPage.vue");
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/orgs/:orgId/status-pages", component: { template: "<p>list</p>" } },
      { path: "/orgs/:orgId/status-pages/new", component: Editor, props: true },
      { path: "/orgs/:orgId/status-pages/:pageId", component: Editor, props: true },
    ],
  });
  await router.push(path);
  await router.isReady();
  const wrapper = mount({ template: "<RouterView />" }, { global: { plugins: [router] }, attachTo: window.document.body });
  await flushPromises();
  return { wrapper, router };
}
const byText = (wrapper: ReturnType<typeof mount>, selector: string, text: string) =>
  wrapper.findAll(selector).find((el) => el.text().replace(/\s+/g, " ").trim() === text);

beforeEach(() => {
  vi.clearAllMocks();
  fake.getStatusPage.mockResolvedValue(structuredClone(page));
  fake.publicStatus.mockResolvedValue(structuredClone(document));
  fake.subscriberCount.mockResolvedValue({ count: 3, confirmed: 2, pending: 1 });
  fake.listStatusPages.mockResolvedValue([structuredClone(page)]);
});

describe("StatusPageEditorPage", () => {
  it("lets an admin reorder, regroup and save, shows the preview and the subscriber count", async () => {
    signIn("admin");
    fake.updateStatusPage.mockImplementation(async (_org, _id, body) => ({ ...page, ...body, components: page.components }) as never);
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(wrapper.get("h1").text()).toBe("Acme status");
    expect((wrapper.get("#sp-slug").element as HTMLInputElement).value).toBe("acme");
    expect(wrapper.get("[data-testid=subscribers]").text()).toBe("3 subscribers (2 confirmed, 1 pending)");
    expect(wrapper.get("[data-testid=overall]").text()).toBe("Major outage");
    expect(wrapper.findAll("[data-post]")).toHaveLength(2);

    await byText(wrapper, "button", "Move Storage up")!.trigger("click");
    await flushPromises();
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(fake.updateStatusPage).toHaveBeenCalledWith(ORG, "page-1", {
      title: "Acme status",
      slug: "acme",
      description: "How Acme is doing",
      components: [
        { name: "Website", service_id: "svc-web" },
        { name: "Storage", service_id: "svc-db", group: "Platform" },
        { name: "API", service_id: "svc-api", group: "Platform" },
      ],
    });
    expect(wrapper.get("[role=status].notice").text()).toContain("Saved");
    expect(fake.publicStatus).toHaveBeenCalledTimes(2); // the preview is read again
    wrapper.unmount();
  });

  it("posts an update and shows it in the page's posts", async () => {
    signIn("user");
    fake.createPost.mockResolvedValue({ id: "post-3", title: "All good", status: "resolved", message: "Fixed.", created_at: "2026-12-01T07:00:00Z", component_ids: ["cmp-api"] });
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    const form = wrapper.findAll("form")[1];
    await form.get("input:not([type])").setValue("All good");
    await form.get("select").setValue("resolved");
    await form.get("textarea").setValue("Fixed.");
    await form.get("input[value=cmp-api]").setValue(true);
    fake.publicStatus.mockResolvedValue({ ...document, posts: [{ id: "post-3", title: "All good", status: "resolved", message: "Fixed.", created_at: "2026-12-01T07:00:00Z", component_ids: ["cmp-api"] }, ...document.posts] });
    await form.trigger("submit");
    await flushPromises();
    expect(fake.createPost).toHaveBeenCalledWith(ORG, "page-1", { title: "All good", status: "resolved", message: "Fixed.", component_ids: ["cmp-api"] });
    expect(wrapper.text()).toContain("Update “All good” posted.");
    expect(wrapper.get(".posts li").text()).toMatch(/resolved\s+All good/);
    expect((wrapper.findAll("form")[1].get("input:not([type])").element as HTMLInputElement).value).toBe(""); // ready for the next one
    wrapper.unmount();
  });

  it("shows a viewer the page without any way to change it or post", async () => {
    signIn("viewer");
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(wrapper.text()).toContain("Only admins can change a status page.");
    for (const locked of ["fieldset.plain", "fieldset.components-editor"]) expect(wrapper.get(locked).attributes("disabled")).toBeDefined();
    expect(byText(wrapper, "button", "Save page")).toBeUndefined();
    expect(byText(wrapper, "button", "Delete page")).toBeUndefined();
    expect(byText(wrapper, "button", "Post update")).toBeUndefined();
    expect(wrapper.text()).toContain("Viewers cannot post updates.");
    wrapper.unmount();
  });

  it("leaves a user the post form but not the page's settings", async () => {
    signIn("user");
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(byText(wrapper, "button", "Save page")).toBeUndefined();
    expect(byText(wrapper, "button", "Post update")).toBeDefined();
    wrapper.unmount();
  });

  it("creates a page with a slug made from its title, then opens it", async () => {
    signIn("admin");
    fake.createStatusPage.mockResolvedValue({ ...page, id: "page-9", slug: "acme-cloud", title: "Acme Cloud", components: [] });
    fake.getStatusPage.mockResolvedValue({ ...page, id: "page-9", slug: "acme-cloud", title: "Acme Cloud", components: [] });
    const { wrapper, router } = await open(`/orgs/${ORG}/status-pages/new`);
    expect(wrapper.get("h1").text()).toBe("New status page");
    await wrapper.get("#sp-title").setValue("Acme Cloud");
    expect((wrapper.get("#sp-slug").element as HTMLInputElement).value).toBe("acme-cloud");
    await wrapper.get("#ce-add-service").setValue("svc-api");
    await byText(wrapper, "button", "Add component")!.trigger("click");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(fake.createStatusPage).toHaveBeenCalledWith(ORG, { title: "Acme Cloud", slug: "acme-cloud", description: "", components: [{ name: "Public API", service_id: "svc-api" }] });
    expect(router.currentRoute.value.fullPath).toBe(`/orgs/${ORG}/status-pages/page-9?created=1`);
    wrapper.unmount();
  });

  it("shows no count while the subscribers route does not answer, and deletes after confirmation", async () => {
    signIn("admin");
    fake.subscriberCount.mockRejectedValue(new ApiError(404, "Not found"));
    const { wrapper, router } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(wrapper.find("[data-testid=subscribers]").exists()).toBe(false);
    const confirm = vi.fn().mockReturnValueOnce(false).mockReturnValueOnce(true);
    vi.stubGlobal("confirm", confirm);
    await byText(wrapper, "button", "Delete page")!.trigger("click");
    expect(fake.deleteStatusPage).not.toHaveBeenCalled();
    await byText(wrapper, "button", "Delete page")!.trigger("click");
    await flushPromises();
    expect(confirm.mock.calls[1][0]).toContain("/status/acme stops answering");
    expect(fake.deleteStatusPage).toHaveBeenCalledWith(ORG, "page-1");
    expect(router.currentRoute.value.fullPath).toBe(`/orgs/${ORG}/status-pages`);
    wrapper.unmount();
  });
});

describe("IncidentUpdatePanel", () => {
  it("prefills from the incident, posts to the page showing its service and links the incident", async () => {
    signIn("user");
    const other = { ...page, id: "page-0", slug: "other", title: "Other", components: [{ id: "x", name: "X", service_id: "svc-x", group: null }] };
    fake.listStatusPages.mockResolvedValue([other, structuredClone(page)]);
    fake.createPost.mockResolvedValue({ ...document.posts[0], id: "post-9" });
    const { default: Panel } = await import("../src/components/status/IncidentUpdatePanel.vue");
    const incident = { id: "inc-1", title: "db-7 OOM killed on prod-eu", service_id: "svc-api" };
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: { template: "<p/>" } }] });
    const wrapper = mount(Panel, { props: { orgId: ORG, incident }, global: { plugins: [router] } });
    await flushPromises();
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("page-1"); // the page with the service
    const title = wrapper.get("input:not([type])");
    expect((title.element as HTMLInputElement).value).toBe(incident.title);
    expect(wrapper.text()).toContain("still the incident's internal title");
    expect(wrapper.findAll("input[type=checkbox]").filter((c) => (c.element as HTMLInputElement).checked).map((c) => c.attributes("value"))).toEqual(["cmp-api"]);
    await title.setValue("Some payments fail");
    await wrapper.get("textarea").setValue("We are on it.");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(fake.createPost).toHaveBeenCalledWith(ORG, "page-1", {
      title: "Some payments fail",
      status: "investigating",
      message: "We are on it.",
      component_ids: ["cmp-api"],
      incident_id: "inc-1",
    });
    expect(wrapper.get("[role=status]").text()).toContain("Update posted to Acme status.");
    expect(wrapper.get("[role=status] a").attributes("href")).toBe("/status/acme");
  });
});
