import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import { whenUnauthorized } from "./api/client";
import { refreshSession, signedIn, storedRefreshToken } from "./api/session";
import { forgetMe, loadMe, me } from "./state/me";

const page = (load: () => Promise<unknown>) => load as never;

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", component: page(() => import("./pages/LoginPage.vue")), meta: { public: true, title: "Log in" } },
    { path: "/signup", component: page(() => import("./pages/SignupPage.vue")), meta: { public: true, title: "Sign up" } },
    { path: "/verify", component: page(() => import("./pages/VerifyPage.vue")), meta: { public: true, title: "Verify your email" } },
    { path: "/forgot-password", component: page(() => import("./pages/ForgotPasswordPage.vue")), meta: { public: true, title: "Forgot password" } },
    { path: "/reset-password", component: page(() => import("./pages/ResetPasswordPage.vue")), meta: { public: true, title: "Reset password" } },
    { path: "/", component: page(() => import("./pages/HomePage.vue")), meta: { title: "Vigil" } },
    { path: "/orgs/new", component: page(() => import("./pages/NewOrgPage.vue")), meta: { title: "Create an organization" } },
    { path: "/me/notifications", component: page(() => import("./pages/PreferencesPage.vue")), meta: { title: "My notifications" } },
    { path: "/orgs/:orgId", component: page(() => import("./pages/OverviewPage.vue")), props: true, meta: { title: "Overview" } },
    { path: "/orgs/:orgId/services/new", component: page(() => import("./pages/ServiceFormPage.vue")), props: true, meta: { title: "Add a service" } },
    { path: "/orgs/:orgId/services/:serviceId", component: page(() => import("./pages/ServicePage.vue")), props: true, meta: { title: "Service" } },
    { path: "/orgs/:orgId/services/:serviceId/edit", component: page(() => import("./pages/ServiceFormPage.vue")), props: true, meta: { title: "Edit service" } },
    { path: "/orgs/:orgId/heartbeats/new", component: page(() => import("./pages/HeartbeatFormPage.vue")), props: true, meta: { title: "Add a heartbeat" } },
    { path: "/orgs/:orgId/services/:serviceId/edit-heartbeat", component: page(() => import("./pages/HeartbeatFormPage.vue")), props: true, meta: { title: "Edit heartbeat" } },
    { path: "/orgs/:orgId/incidents", component: page(() => import("./pages/IncidentsPage.vue")), props: true, meta: { title: "Incidents" } },
    { path: "/orgs/:orgId/incidents/:incidentId", component: page(() => import("./pages/IncidentPage.vue")), props: true, meta: { title: "Incident" } },
    { path: "/orgs/:orgId/escalation-policies", component: page(() => import("./pages/PoliciesPage.vue")), props: true, meta: { title: "Escalation policies" } },
    { path: "/orgs/:orgId/escalation-policies/:policyId", component: page(() => import("./pages/PolicyFormPage.vue")), props: true, meta: { title: "Escalation policy" } },
    { path: "/orgs/:orgId/integrations", component: page(() => import("./pages/IntegrationsPage.vue")), props: true, meta: { title: "Integrations" } },
    { path: "/orgs/:orgId/maintenance", component: page(() => import("./pages/MaintenancePage.vue")), props: true, meta: { title: "Maintenance windows" } },
    { path: "/orgs/:orgId/status-pages", component: page(() => import("./pages/StatusPagesPage.vue")), props: true, meta: { title: "Status pages" } },
    { path: "/orgs/:orgId/status-pages/new", component: page(() => import("./pages/StatusPageEditorPage.vue")), props: true, meta: { title: "New status page" } },
    { path: "/orgs/:orgId/status-pages/:pageId", component: page(() => import("./pages/StatusPageEditorPage.vue")), props: true, meta: { title: "Status page" } },
    { path: "/orgs/:orgId/members", component: page(() => import("./pages/MembersPage.vue")), props: true, meta: { title: "Members" } },
    { path: "/:rest(.*)*", component: page(() => import("./pages/NotFoundPage.vue")), meta: { public: true, title: "Not found" } },
  ],
});

function toLogin(to: RouteLocationNormalized) {
  return { path: "/login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  // After a reload only the refresh token is left: trade it for an access token first.
  if (!signedIn.value && !(storedRefreshToken() && (await refreshSession()))) return toLogin(to);
  if (!me.value) {
    try {
      await loadMe();
    } catch {
      return toLogin(to);
    }
  }
  return true;
});

router.afterEach((to) => {
  document.title = `${String(to.meta.title ?? "Vigil")} · Vigil`;
});

// A 401 on a signed-in request: the session is over; log in again and come back here.
whenUnauthorized(() => {
  forgetMe();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push(toLogin(current));
});
