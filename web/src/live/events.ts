// Real-time events (API.md "Real-time events"): one WebSocket per org, opened with a single-use ticket,
// reopened with backoff when it drops, and caught up through GET .../events?after=<last seq> so a dropped
// socket loses nothing. The envelope is not in /openapi.json (it travels on the socket); `data` is the
// object exactly as the REST API returns it.
import { ref, type Ref } from "vue";

export interface LiveEvent {
  seq: string;
  type: string;
  org_id: string;
  at: string;
  data: Record<string, unknown> & { truncated?: boolean };
}

export type LiveStatus = "connecting" | "live" | "reconnecting" | "polling";
type Listener = (event: LiveEvent) => void;

export interface Transport {
  ticket(orgId: string): Promise<{ url: string } | null>; // null: this API has no real-time events
  missed(orgId: string, after: string, cursor: string | null): Promise<{ items: LiveEvent[]; next_cursor: string | null }>;
  open(url: string): WebSocket;
}

export const POLL_SECONDS = 10; // without real-time events, lists reload this often
const PING_SECONDS = 240; // API Gateway closes a socket idle for 10 minutes
const MAX_BACKOFF_SECONDS = 30;
const MAX_REMEMBERED = 5000;
const CATCH_UP_OVERLAP_SECONDS = 60;

/** Where a catch-up starts: a minute before `seq`, since another table's event of that minute may be
 * logged after it (its first 12 digits are seconds); the overlap is dropped by seq. */
export function catchUpFrom(seq: string): string {
  const match = /^(\d{12})-\d{40}$/.exec(seq);
  if (!match) return seq;
  const seconds = Math.max(0, Number(match[1]) - CATCH_UP_OVERLAP_SECONDS);
  return `${String(seconds).padStart(12, "0")}-${"0".repeat(40)}`;
}

export class LiveConnection {
  readonly status: Ref<LiveStatus> = ref("connecting");
  private listeners = new Set<Listener>();
  private resyncs = new Set<() => void>();
  private socket: WebSocket | null = null;
  private lastSeq: string | null = null;
  private seen = new Set<string>(); // seqs applied, so the catch-up's overlap and retried frames apply once
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    readonly orgId: string,
    private transport: Transport,
  ) {}

  subscribe(listener: Listener, resync: () => void): () => void {
    this.listeners.add(listener);
    this.resyncs.add(resync);
    return () => {
      this.listeners.delete(listener);
      this.resyncs.delete(resync);
    };
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  async start(): Promise<void> {
    if (this.closed) return;
    let ticket;
    try {
      ticket = await this.transport.ticket(this.orgId);
    } catch {
      return this.retry();
    }
    if (this.closed) return;
    if (ticket === null) {
      this.status.value = "polling";
      this.timer = setInterval(() => this.resync(), POLL_SECONDS * 1000);
      return;
    }
    const socket = this.transport.open(ticket.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.status.value = "live";
      this.pinger = setInterval(() => socket.send(JSON.stringify({ action: "ping" })), PING_SECONDS * 1000);
      // Lists were read before the socket opened: catch up what happened in between.
      void (this.lastSeq === null ? this.resync() : this.catchUp());
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      clearInterval(this.pinger);
      if (this.socket === socket) this.socket = null;
      if (!this.closed) this.retry();
    };
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.timer);
    clearInterval(this.pinger);
    this.socket?.close();
    this.socket = null;
  }

  private retry(): void {
    this.status.value = "reconnecting";
    const delay = Math.min(MAX_BACKOFF_SECONDS, 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => void this.start(), delay * 1000);
  }

  private receive(text: string): void {
    let event: LiveEvent;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof event.seq !== "string" || event.org_id !== this.orgId) return; // pong, or not ours
    this.deliver(event);
  }

  private deliver(event: LiveEvent): void {
    if (this.seen.has(event.seq)) return;
    this.seen.add(event.seq);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    // Two tables' events may arrive out of seq order (README "Real-time events"): apply each once.
    if (this.lastSeq === null || event.seq > this.lastSeq) this.lastSeq = event.seq;
    for (const listener of this.listeners) listener(event);
  }

  private resync(): void {
    for (const resync of this.resyncs) resync();
  }

  private async catchUp(): Promise<void> {
    if (this.lastSeq === null) return;
    const after = catchUpFrom(this.lastSeq);
    let cursor: string | null = null;
    try {
      do {
        const page = await this.transport.missed(this.orgId, after, cursor);
        page.items.forEach((event) => this.deliver(event));
        cursor = page.next_cursor;
      } while (cursor);
    } catch {
      this.resync(); // the events are gone or unreadable: read the lists again instead
    }
  }
}

/** An event applied to a list of REST objects in place: created/updated objects replace the old copy
 * (or are put first), deleted ones and ones that no longer match the list's filter leave it. */
export function applyEvent<T extends { id: string }>(
  items: T[],
  event: LiveEvent,
  kind: "incident" | "service",
  matches: (item: T) => boolean = () => true,
): void {
  if (!event.type.startsWith(`${kind}.`) || event.type === "incident.comment") return;
  const id = event.data.id as string | undefined;
  if (!id) return;
  const index = items.findIndex((item) => item.id === id);
  if (event.type.endsWith(".deleted")) {
    if (index >= 0) items.splice(index, 1);
    return;
  }
  // A truncated object lacks its bulky fields: keep ours for those.
  const updated = (index >= 0 && event.data.truncated ? { ...items[index], ...event.data } : event.data) as unknown as T;
  if (!matches(updated)) {
    if (index >= 0) items.splice(index, 1);
  } else if (index >= 0) {
    items[index] = updated;
  } else {
    items.unshift(updated);
  }
}
