import { describe, expect, it, vi } from "vitest";
import { applyEvent, catchUpFrom, LiveConnection, type LiveEvent, type Transport } from "../src/live/events";

const event = (seq: string, type: string, data: Record<string, unknown>): LiveEvent => ({ seq, type, org_id: "o1", at: "2026-12-01T00:00:00Z", data });

describe("applyEvent", () => {
  it("puts a new incident first, replaces a changed one and drops one that leaves the filter", () => {
    const items = [{ id: "a", status: "open" }];
    applyEvent(items, event("1", "incident.created", { id: "b", status: "open" }), "incident");
    expect(items.map((i) => i.id)).toEqual(["b", "a"]);
    applyEvent(items, event("2", "incident.updated", { id: "a", status: "acknowledged" }), "incident");
    expect(items[1].status).toBe("acknowledged");
    applyEvent(items, event("3", "incident.updated", { id: "b", status: "resolved" }), "incident", (i) => i.status !== "resolved");
    expect(items.map((i) => i.id)).toEqual(["a"]);
  });

  it("keeps the bulky fields of a truncated object and ignores other kinds", () => {
    const items = [{ id: "s", name: "Shop", headers: { a: "b" }, status: "up" }];
    applyEvent(items, event("1", "service.status_changed", { id: "s", status: "down", truncated: true }), "service");
    expect(items[0]).toMatchObject({ name: "Shop", headers: { a: "b" }, status: "down" });
    applyEvent(items, event("2", "incident.created", { id: "x" }), "service");
    applyEvent(items, event("3", "service.deleted", { id: "s" }), "service");
    expect(items).toEqual([]);
  });
});

class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  sent: string[] = [];
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.onclose?.();
  }
}

describe("LiveConnection", () => {
  it("reconnects with a new ticket and catches up from the last seq, without repeats", async () => {
    vi.useFakeTimers();
    const sockets: FakeSocket[] = [];
    const missed = vi.fn(async (_org: string, after: string) => ({
      items: [event("2", "incident.updated", { id: "a" }), event("3", "incident.created", { id: "b" })].filter((e) => e.seq > after),
      next_cursor: null,
    }));
    const ticket = vi.fn(async () => ({ url: "ws://x" }));
    const transport: Transport = { ticket, missed, open: () => (sockets.push(new FakeSocket()), sockets.at(-1) as unknown as WebSocket) };
    const connection = new LiveConnection("o1", transport);
    const seen: string[] = [];
    const resync = vi.fn();
    connection.subscribe((e) => seen.push(e.seq), resync);

    await connection.start();
    sockets[0].onopen?.();
    expect(resync).toHaveBeenCalledTimes(1); // first open: lists re-read what happened before it
    expect(connection.status.value).toBe("live");
    sockets[0].onmessage?.({ data: JSON.stringify(event("1", "incident.created", { id: "a" })) });
    sockets[0].onmessage?.({ data: JSON.stringify({ type: "pong" }) });
    sockets[0].onmessage?.({ data: JSON.stringify({ ...event("9", "incident.created", { id: "z" }), org_id: "other" }) });

    sockets[0].onclose?.();
    expect(connection.status.value).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1000);
    expect(ticket).toHaveBeenCalledTimes(2);
    sockets[1].onopen?.();
    await vi.runOnlyPendingTimersAsync();
    expect(missed).toHaveBeenCalledWith("o1", "1", null);
    sockets[1].onmessage?.({ data: JSON.stringify(event("3", "incident.created", { id: "b" })) }); // already caught up
    expect(seen).toEqual(["1", "2", "3"]);
    connection.stop();
    vi.useRealTimers();
  });

  it("falls back to reloading the lists when the API has no real-time events", async () => {
    vi.useFakeTimers();
    const transport: Transport = { ticket: async () => null, missed: vi.fn(), open: vi.fn() };
    const connection = new LiveConnection("o1", transport);
    const resync = vi.fn();
    connection.subscribe(() => undefined, resync);
    await connection.start();
    expect(connection.status.value).toBe("polling");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(resync).toHaveBeenCalledTimes(1);
    connection.stop();
    vi.useRealTimers();
  });

  it("catches up from a minute before the last seq and applies events that arrive out of seq order once", async () => {
    const seq = (seconds: number, n: number) => `${String(seconds).padStart(12, "0")}-${String(n).padStart(40, "0")}`;
    const sockets: FakeSocket[] = [];
    const missed = vi.fn(async () => ({ items: [event(seq(1000, 7), "service.status_changed", { id: "s" })], next_cursor: null }));
    const transport: Transport = {
      ticket: async () => ({ url: "ws://x" }),
      missed,
      open: () => (sockets.push(new FakeSocket()), sockets.at(-1) as unknown as WebSocket),
    };
    const connection = new LiveConnection("o1", transport);
    const seen: string[] = [];
    connection.subscribe((e) => seen.push(e.seq), vi.fn());
    await connection.start();
    sockets[0].onopen?.();
    sockets[0].onmessage?.({ data: JSON.stringify(event(seq(1000, 9), "incident.updated", { id: "a" })) });
    sockets[0].onmessage?.({ data: JSON.stringify(event(seq(1000, 7), "service.status_changed", { id: "s" })) }); // another table, older seq
    expect(seen).toEqual([seq(1000, 9), seq(1000, 7)]);
    expect(catchUpFrom(seq(1000, 9))).toBe(seq(940, 0));
    sockets[0].onclose?.();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    sockets[1].onopen?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(missed).toHaveBeenCalledWith("o1", seq(940, 0), null);
    expect(seen).toEqual([seq(1000, 9), seq(1000, 7)]); // the overlap is not applied twice
    connection.stop();
  });
});
