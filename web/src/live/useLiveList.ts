// The composable every live list uses: read the list through the API, then keep it current from the
// org's event stream (one shared WebSocket per org), reading it again after a gap it cannot fill.
import { onUnmounted, ref, watch, type Ref } from "vue";
import { ApiError, getUntyped, postUntyped } from "../api/client";
import { applyEvent, LiveConnection, type LiveEvent, type Transport } from "./events";

const transport: Transport = {
  async ticket(orgId) {
    try {
      return await postUntyped<{ url: string }>(`/v1/orgs/${orgId}/realtime/tickets`);
    } catch (error) {
      // 404: this API has no real-time events (405/403 from a gateway that lacks the route, too).
      if (error instanceof ApiError && [403, 404, 405].includes(error.status)) return null;
      throw error;
    }
  },
  missed(orgId, after, cursor) {
    const query = new URLSearchParams({ after, limit: "100", ...(cursor ? { cursor } : {}) });
    return getUntyped(`/v1/orgs/${orgId}/events?${query}`);
  },
  open: (url) => new WebSocket(url),
};

let shared: LiveConnection | null = null;

/** Subscribes to the org's events; the connection opens with the first subscriber and closes with the last. */
export function useLiveEvents(orgId: Ref<string>, onEvent: (event: LiveEvent) => void, onResync: () => void) {
  const status = ref<LiveConnection["status"]["value"]>("connecting");
  let unsubscribe: (() => void) | null = null;
  let stopStatus: (() => void) | null = null;
  function attach(org: string) {
    detach();
    if (shared && shared.orgId !== org) {
      shared.stop();
      shared = null;
    }
    if (!shared) {
      shared = new LiveConnection(org, transport);
      void shared.start();
    }
    const connection = shared;
    unsubscribe = connection.subscribe(onEvent, onResync);
    stopStatus = watch(connection.status, (value) => (status.value = value), { immediate: true });
  }
  function detach() {
    unsubscribe?.();
    stopStatus?.();
    unsubscribe = stopStatus = null;
    if (shared && shared.subscribers === 0) {
      const idle = shared;
      // Pages come and go on navigation: keep the socket a moment for the next page of the same org.
      setTimeout(() => {
        if (idle.subscribers === 0 && shared === idle) {
          idle.stop();
          shared = null;
        }
      }, 5000);
    }
  }
  watch(orgId, attach, { immediate: true });
  onUnmounted(detach);
  return { status };
}

export interface LiveList<T> {
  items: Ref<T[]>;
  loading: Ref<boolean>;
  error: Ref<string | null>;
  reload: () => Promise<void>;
  live: Ref<string>;
}

/** A list read with `load` and kept live: `matches` says whether an object belongs in it (its filter). */
export function useLiveList<T extends { id: string }>(
  orgId: Ref<string>,
  kind: "incident" | "service",
  load: () => Promise<T[]>,
  matches: (item: T) => boolean = () => true,
  onEvent: (event: LiveEvent) => void = () => undefined,
): LiveList<T> {
  const items = ref<T[]>([]) as Ref<T[]>;
  const loading = ref(true);
  const error = ref<string | null>(null);
  let generation = 0;
  async function reload() {
    const mine = ++generation;
    try {
      const fresh = await load();
      if (mine === generation) {
        items.value = fresh;
        error.value = null;
      }
    } catch (failure) {
      if (mine === generation) error.value = (failure as Error).message;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }
  void reload();
  const { status } = useLiveEvents(
    orgId,
    (event) => {
      applyEvent(items.value, event, kind, matches);
      onEvent(event);
    },
    () => void reload(),
  );
  return { items, loading, error, reload, live: status };
}
