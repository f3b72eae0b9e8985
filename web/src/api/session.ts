// Who is logged in: the access token lives in memory only, the refresh token in localStorage.
// An XSS-free page cannot leak what is in memory, and the access token dies with the tab; the refresh
// token survives a reload (and opens other tabs) and is single-use: the server rotates it on every
// refresh and voids a reused one, so a stolen copy works at most once. See README "Web app".
import { ref } from "vue";
import type { components } from "./schema";

type TokenResponse = components["schemas"]["TokenResponse"];

export const REFRESH_KEY = "vigil.refresh_token";
const REFRESH_AHEAD_SECONDS = 60; // renew a minute before expiry, so a request never carries a dead token

const accessToken = ref<string | null>(null);
let expiresAt = 0; // epoch ms
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;

export const signedIn = ref(false);

export function currentAccessToken(): string | null {
  return accessToken.value;
}

export function storedRefreshToken(): string | null {
  return localStorage.getItem(REFRESH_KEY);
}

export function startSession(tokens: TokenResponse, now = Date.now()): void {
  accessToken.value = tokens.access_token;
  expiresAt = now + tokens.expires_in * 1000;
  localStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  signedIn.value = true;
  scheduleRefresh(tokens.expires_in);
}

export function endSession(): void {
  accessToken.value = null;
  expiresAt = 0;
  localStorage.removeItem(REFRESH_KEY);
  signedIn.value = false;
  clearTimeout(refreshTimer);
}

export function expiresSoon(now = Date.now()): boolean {
  return accessToken.value !== null && now >= expiresAt - REFRESH_AHEAD_SECONDS * 1000;
}

function scheduleRefresh(expiresIn: number): void {
  clearTimeout(refreshTimer);
  const delay = Math.max(5, expiresIn - REFRESH_AHEAD_SECONDS) * 1000;
  refreshTimer = setTimeout(() => void refreshSession(), delay);
}

/** Trades the stored refresh token for a new pair; false (and signed out) when the server refuses it.
 * Tabs share the stored token, so refreshes are serialized across tabs and each reads the newest one. */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    const run = () => doRefresh();
    const pending: Promise<boolean> = navigator.locks ? (navigator.locks.request("vigil-refresh", run) as unknown as Promise<boolean>) : run();
    refreshing = pending.finally(() => (refreshing = null));
  }
  return refreshing as Promise<boolean>;
}

async function doRefresh(): Promise<boolean> {
  const token = storedRefreshToken();
  if (!token) {
    endSession();
    return false;
  }
  const response = await fetch("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }),
  }).catch(() => null);
  if (response === null) return false; // offline: keep the session, try again later
  if (!response.ok) {
    endSession();
    return false;
  }
  startSession((await response.json()) as TokenResponse);
  return true;
}
