/**
 * StudioClient over the web face's WebSocket (`/api?token=…`): JSON ClientMessage/ServerMessage, replies
 * matched by id, automatic reconnect with exponential backoff. Requests made while disconnected wait
 * for the next open (so a view's backfill after a reconnect simply works); requests in flight when the
 * socket drops are rejected, since the server may or may not have run them.
 */
import {
  API_METHODS,
  type ApiMethod,
  type ClientMessage,
  type ServerMessage,
  type StudioApi,
  type StudioEvent,
} from '../../../src-shared/protocol';
import { StudioApiError, type ConnectionState, type StudioClient } from './types';

/** The part of the DOM WebSocket this client uses (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface WsClientOptions {
  url: string;
  token: string | null;
  /** Defaults to the global WebSocket. */
  createSocket?: (url: string) => SocketLike;
  /** Backoff: first delay and cap, ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Timer functions (tests pass fakes). */
  setTimer?: (fn: () => void, ms: number) => unknown;
}

const OPEN = 1;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** The `ws(s)://host/api?token=…` URL of the page that loaded us, and the token from its `?token=`. */
export function webFaceEndpoint(loc: { protocol: string; host: string; search: string }): { url: string; token: string | null } {
  const token = new URLSearchParams(loc.search).get('token');
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return { url: `${scheme}//${loc.host}/api${q}`, token };
}

export function createWsClient(opts: WsClientOptions): StudioClient {
  const createSocket = opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const setTimer = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const minDelay = opts.minDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 10_000;

  const eventHandlers = new Set<(e: StudioEvent) => void>();
  const stateHandlers = new Set<(s: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  /** Requests waiting for the socket to open. */
  let queue: string[] = [];
  let nextId = 1;
  let state: ConnectionState = 'connecting';
  let socket: SocketLike | null = null;
  let attempt = 0;

  function setState(s: ConnectionState): void {
    if (s === state) return;
    state = s;
    for (const h of stateHandlers) h(s);
  }

  function connect(): void {
    setState('connecting');
    let sock: SocketLike;
    try {
      sock = createSocket(opts.url);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = sock;
    sock.onopen = () => {
      attempt = 0;
      const waiting = queue;
      queue = [];
      for (const msg of waiting) sock.send(msg);
      setState('open');
    };
    sock.onmessage = (ev) => handleMessage(ev.data);
    sock.onerror = () => {
      // The close event follows; reconnecting is handled there.
    };
    sock.onclose = () => {
      if (socket !== sock) return;
      socket = null;
      for (const [id, p] of pending) {
        p.reject(new Error('the connection to the studio closed before it replied; try again'));
        pending.delete(id);
      }
      setState('closed');
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    // Exponential backoff with jitter, so many tabs do not hammer a restarting server in step.
    const delay = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt = Math.min(attempt + 1, 16);
    setTimer(connect, delay);
  }

  function handleMessage(data: unknown): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(String(data)) as ServerMessage;
    } catch {
      return; // not ours
    }
    if ('event' in msg) {
      for (const h of eventHandlers) {
        try {
          h(msg.event);
        } catch (e) {
          console.error('studio event handler failed', e);
        }
      }
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if ('error' in msg) p.reject(new StudioApiError(msg.error));
    else p.resolve(msg.result);
  }

  function call(method: ApiMethod, params: unknown[]): Promise<unknown> {
    const id = nextId++;
    const msg: ClientMessage = { id, method, params };
    const text = JSON.stringify(msg);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (socket && socket.readyState === OPEN && state === 'open') socket.send(text);
      else queue.push(text);
    });
  }

  // One forwarding method per StudioApi method, generated from the shared list so none can be missed.
  const api = {} as Record<ApiMethod, (...args: unknown[]) => Promise<unknown>>;
  for (const m of API_METHODS) api[m] = (...args: unknown[]) => call(m, args);

  connect();

  return {
    ...(api as unknown as StudioApi),
    face: 'web',
    token: opts.token,
    subscribe(handler) {
      eventHandlers.add(handler);
      return () => eventHandlers.delete(handler);
    },
    onConnection(handler) {
      stateHandlers.add(handler);
      handler(state);
      return () => stateHandlers.delete(handler);
    },
  };
}
