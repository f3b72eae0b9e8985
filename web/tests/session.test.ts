import { beforeEach, describe, expect, it, vi } from "vitest";
import { currentAccessToken, endSession, expiresSoon, REFRESH_KEY, refreshSession, startSession } from "../src/api/session";

const pair = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer" as const, expires_in: 900 });

describe("session", () => {
  beforeEach(() => endSession());

  it("keeps the access token in memory only and the refresh token in localStorage", () => {
    startSession(pair(1));
    expect(currentAccessToken()).toBe("access-1");
    expect(localStorage.getItem(REFRESH_KEY)).toBe("refresh-1");
    expect(JSON.stringify({ ...localStorage })).not.toContain("access-1");
  });

  it("is due for renewal a minute before expiry", () => {
    startSession(pair(1), 0);
    expect(expiresSoon(839_000)).toBe(false);
    expect(expiresSoon(841_000)).toBe(true);
  });

  it("rotates the pair on refresh and ends the session when the server refuses", async () => {
    startSession(pair(1));
    const fetch = vi.fn().mockResolvedValueOnce(new Response(JSON.stringify(pair(2)), { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    expect(await refreshSession()).toBe(true);
    expect(JSON.parse(fetch.mock.calls[0][1].body)).toEqual({ refresh_token: "refresh-1" });
    expect(currentAccessToken()).toBe("access-2");
    fetch.mockResolvedValueOnce(new Response("{}", { status: 401 }));
    expect(await refreshSession()).toBe(false);
    expect(currentAccessToken()).toBeNull();
    expect(localStorage.getItem(REFRESH_KEY)).toBeNull();
    vi.unstubAllGlobals();
  });
});
