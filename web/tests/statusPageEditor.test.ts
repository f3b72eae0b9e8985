// The status page editor and the incident's "post an update" panel over a fake API module (the edge):
// what each role sees, what is sent, what comes back on screen.
import { flushPromises, mount } from "@vue/test-utils";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { ApiError } from "../src/api/client";
import * as statusApi from "../src/api/statusPages";
import { me } from "../src/state/me";
import { document, page, post, posts, services } from "./fixtures/statusPages";

vi.mock("../src/api/statusPages", () => ({
  listStatusPages: vi.fn(),
  getStatusPage: vi.fn(),
  createStatusPage: vi.fn(),
  updateStatusPage: vi.fn(),
  deleteStatusPage: vi.fn(),
  createPost: vi.fn(),
  followUp: vi.fn(),
  listPosts: vi.fn(),
  publicStatus: vi.fn(),
  subscriberCount: vi.fn(),
}));
// The org's event stream: the tests hand events to the page themselves.
const live = vi.hoisted(() => ({ onEvent: (_event: unknown) => undefined as void }));
vi.mock("../src/live/useLiveList", async () => {
  const { ref } = await import("vue");
  return {
    useLiveEvents: (_org: unknown, onEvent: (event: unknown) => void) => {
      live.onEvent = onEvent;
      return { status: ref("live") };
    },
  };
});
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

// Compiling the pages takes seconds on a busy machine: once, before the tests' own timeouts run.
beforeAll(async () => {
  await Promise.all([
    import("../src/pages/StatusPageEditorPage.vue"),
    import("../src/pages/StatusPagesPage.vue"),
    import("../src/components/status/IncidentUpdatePanel.vue"),
  ]);
}, 60_000);

beforeEach(() => {
  vi.clearAllMocks();
  fake.getStatusPage.mockResolvedValue(structuredClone(page));
  fake.publicStatus.mockResolvedValue(structuredClone(document));
  fake.subscriberCount.mockResolvedValue({ count: 3, confirmed: 2, pending: 1 });
  fake.listStatusPages.mockResolvedValue([structuredClone(page)]);
  fake.listPosts.mockResolvedValue(structuredClone(posts));
});

describe("StatusPageEditorPage", () => {
  it("lets an admin reorder and save, shows the preview and the subscriber count", async () => {
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
        { id: "cmp-web", name: "Website", service_id: "svc-web" },
        { id: "cmp-db", name: "Storage", service_id: "svc-db", group: "Platform" },
        { id: "cmp-api", name: "API", service_id: "svc-api", group: "Platform" },
      ],
    });
    expect(wrapper.get("[role=status].notice").text()).toContain("Saved");
    expect(fake.publicStatus).toHaveBeenCalledTimes(2); // the preview is read again
    expect(wrapper.get("a.button").attributes("href")).toBe("http://127.0.0.1:8080/status/acme");
    wrapper.unmount();
  });

  it("reads the preview again when a service of the page changes status", async () => {
    vi.useFakeTimers();
    signIn("viewer");
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(fake.publicStatus).toHaveBeenCalledTimes(1);
    fake.publicStatus.mockResolvedValue({ ...document, status: "operational", components: document.components.map((c) => ({ ...c, status: "operational" as const })) });
    const event = (type: string, id: string) => ({ seq: "1", type, org_id: ORG, at: "2026-12-01T07:00:00Z", data: { id, status: "up" } });
    live.onEvent(event("service.status_changed", "svc-other")); // not on the page
    live.onEvent(event("incident.updated", "svc-api"));
    live.onEvent(event("service.status_changed", "svc-api"));
    live.onEvent(event("service.status_changed", "svc-db")); // a burst: one read
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    await flushPromises();
    expect(fake.publicStatus).toHaveBeenCalledTimes(2);
    expect(wrapper.get("[data-testid=overall]").text()).toBe("All systems operational");
    wrapper.unmount();
  });

  it("posts an update and lists it with its status", async () => {
    signIn("user");
    const made = post({ title: "All good", status: "resolved", message: "Fixed.", created_at: "2026-12-01T07:00:00Z" });
    fake.createPost.mockResolvedValue(made);
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    expect(wrapper.findAll("[data-posted]").map((li) => li.get(".badge").text())).toEqual(["Status: identified", "Status: investigating"]);
    const form = wrapper.findAll("form")[1];
    await form.get("input:not([type])").setValue("All good");
    await form.get("select").setValue("resolved");
    await form.get("textarea").setValue("Fixed.");
    await form.get("input[value=cmp-api]").setValue(true);
    fake.listPosts.mockResolvedValue([made, ...posts]);
    await form.trigger("submit");
    await flushPromises();
    expect(fake.createPost).toHaveBeenCalledWith(ORG, "page-1", { title: "All good", status: "resolved", message: "Fixed.", component_ids: ["cmp-api"] });
    expect(wrapper.text()).toContain("Update “All good” posted (resolved).");
    expect(wrapper.get("[data-posted]").text()).toMatch(/resolved\s+All good/);
    expect(fake.publicStatus).toHaveBeenCalledTimes(2); // the preview is read again
    expect((wrapper.findAll("form")[1].get("input:not([type])").element as HTMLInputElement).value).toBe(""); // ready for the next one
    wrapper.unmount();
  });

  it("follows an open story up from its newest post", async () => {
    signIn("user");
    fake.followUp.mockResolvedValue(post({ id: "post-3", thread_id: "post-1", status: "monitoring" }));
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/page-1`);
    // Only the newest post of an open story offers a follow-up.
    expect(wrapper.findAll("[data-posted]").map((li) => li.find("button").exists())).toEqual([true, false]);
    await byText(wrapper, "button", "Follow up API errors")!.trigger("click");
    await flushPromises();
    const form = wrapper.findAll("form")[1];
    expect(wrapper.text()).toContain("Follows up “API errors” (identified");
    expect((form.get("input:not([type])").element as HTMLInputElement).value).toBe("API errors");
    expect((form.get("select").element as HTMLSelectElement).value).toBe("monitoring");
    await form.get("textarea").setValue("The fix is out; watching.");
    await form.trigger("submit");
    await flushPromises();
    expect(fake.followUp).toHaveBeenCalledWith(ORG, "page-1", "post-2", { title: "API errors", status: "monitoring", message: "The fix is out; watching.", component_ids: ["cmp-api"] });
    expect(fake.createPost).not.toHaveBeenCalled();
    expect(wrapper.text()).not.toContain("Follows up");
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

  it("says so when the page does not exist, without offering to create it", async () => {
    signIn("admin");
    fake.getStatusPage.mockRejectedValue(new ApiError(404, "status page not found"));
    const { wrapper } = await open(`/orgs/${ORG}/status-pages/nope`);
    expect(wrapper.get("[role=alert]").text()).toBe("status page not found");
    expect(wrapper.find("form").exists()).toBe(false);
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

describe("StatusPagesPage", () => {
  async function list() {
    const { default: List } = await import("../src/pages/StatusPagesPage.vue");
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:rest(.*)*", component: { template: "<p/>" } }] });
    const wrapper = mount(List, { props: { orgId: ORG }, global: { plugins: [router] } });
    await flushPromises();
    return wrapper;
  }

  it("lists each page with its public link, live status and (for admins) subscribers", async () => {
    signIn("admin");
    const wrapper = await list();
    const cells = wrapper.findAll("tbody tr")[0].findAll("td").map((td) => td.text());
    expect(cells).toEqual(["Acme status", "/status/acme (opens in a new tab)", "Major outage", "3", "3"]);
    expect(wrapper.get("tbody a[target=_blank]").attributes("href")).toBe("http://127.0.0.1:8080/status/acme");
    expect(byText(wrapper, "a", "New status page")).toBeDefined();
  });

  it("shows a viewer the pages without subscribers or a way to create one", async () => {
    signIn("viewer");
    fake.publicStatus.mockRejectedValue(new ApiError(404, "status page not found"));
    const wrapper = await list();
    expect(wrapper.findAll("th").map((th) => th.text())).toEqual(["Title", "Public page", "Status", "Components"]);
    expect(wrapper.findAll("tbody td")[2].text()).toBe("unavailable");
    expect(fake.subscriberCount).not.toHaveBeenCalled();
    expect(byText(wrapper, "a", "New status page")).toBeUndefined();
  });
});

describe("IncidentUpdatePanel", () => {
  const incident = { id: "inc-7", title: "db-7 OOM killed on prod-eu", service_id: "svc-api" };
  async function panel() {
    const { default: Panel } = await import("../src/components/status/IncidentUpdatePanel.vue");
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: { template: "<p/>" } }] });
    const wrapper = mount(Panel, { props: { orgId: ORG, incident }, global: { plugins: [router] } });
    await flushPromises();
    return wrapper;
  }

  it("prefills the first post from the incident, on the page showing its service, and links the incident", async () => {
    signIn("user");
    const other = { ...page, id: "page-0", slug: "other", title: "Other", components: [{ id: "x", name: "X", service_id: "svc-x", group: null, position: 0 }] };
    fake.listStatusPages.mockResolvedValue([other, structuredClone(page)]);
    fake.createPost.mockResolvedValue(post({ id: "post-9", incident_id: "inc-7" }));
    const wrapper = await panel();
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("page-1"); // the page with the service
    const title = wrapper.get("input:not([type])");
    expect((title.element as HTMLInputElement).value).toBe(incident.title);
    expect(wrapper.text()).toContain("still the incident's internal title");
    expect((wrapper.findAll("select")[1].element as HTMLSelectElement).value).toBe("investigating");
    expect(wrapper.findAll("input[type=checkbox]").filter((c) => (c.element as HTMLInputElement).checked).map((c) => c.attributes("value"))).toEqual(["cmp-api"]);
    await title.setValue("Some payments fail");
    await wrapper.get("textarea").setValue("We are on it.");
    fake.listPosts.mockResolvedValue([post({ id: "post-9", thread_id: "post-9", incident_id: "inc-7", title: "Some payments fail" }), ...posts]);
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(fake.createPost).toHaveBeenCalledWith(ORG, "page-1", {
      title: "Some payments fail",
      status: "investigating",
      message: "We are on it.",
      component_ids: ["cmp-api"],
      incident_id: "inc-7",
    });
    expect(wrapper.get("[role=status]").text()).toContain("Update posted to Acme status (identified).");
    expect(wrapper.get("[role=status] a").attributes("href")).toBe("http://127.0.0.1:8080/status/acme");
    // The next update follows the story just started.
    expect(wrapper.text()).toContain("Follows up this incident's story “Some payments fail”");
  });

  it("follows up the incident's open story, or starts a new one on request", async () => {
    signIn("user");
    fake.listPosts.mockResolvedValue(structuredClone(posts).map((p) => ({ ...p, incident_id: "inc-7" })));
    fake.followUp.mockResolvedValue(post({ status: "monitoring" }));
    const wrapper = await panel();
    expect(wrapper.text()).toContain("Follows up this incident's story “API errors” (identified");
    expect(wrapper.text()).not.toContain("internal title"); // the story's title is already public
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("monitoring");
    await wrapper.get("textarea").setValue("Recovering.");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(fake.followUp).toHaveBeenCalledWith(ORG, "page-1", "post-2", { title: "API errors", status: "monitoring", message: "Recovering.", component_ids: ["cmp-api"] });

    await byText(wrapper, "button", "Start a new story instead")!.trigger("click");
    await flushPromises();
    expect((wrapper.get("input:not([type])").element as HTMLInputElement).value).toBe(incident.title);
    expect((wrapper.get("select").element as HTMLSelectElement).value).toBe("investigating");
  });
});
