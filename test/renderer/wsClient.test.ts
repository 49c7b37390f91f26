import { describe, expect, it } from 'vitest';
import { createWsClient, webFaceEndpoint, type SocketLike } from '../../src-renderer/src/api/wsClient';
import { StudioApiError, type ConnectionState } from '../../src-renderer/src/api/types';
import type { ClientMessage, StudioEvent } from '../../src-shared/protocol';

/** A fake WebSocket the test drives by hand. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientMessage[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close(): void {
    this.drop();
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({});
  }
  reply(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  const client = createWsClient({
    url: 'ws://h/api?token=t',
    token: 't',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn) => timers.push(fn),
  });
  return { client, sockets, timers };
}

describe('web face endpoint', () => {
  it('builds ws(s)://host/api?token= from the page URL', () => {
    expect(webFaceEndpoint({ protocol: 'http:', host: '127.0.0.1:4321', search: '?token=abc' })).toEqual({
      url: 'ws://127.0.0.1:4321/api?token=abc',
      token: 'abc',
    });
    expect(webFaceEndpoint({ protocol: 'https:', host: 'x', search: '' }).url).toBe('wss://x/api');
  });
});

describe('WebSocket StudioClient', () => {
  it('queues requests until open, then matches replies by id', async () => {
    const { client, sockets } = setup();
    const a = client.listRuns();
    const b = client.vlbSnapshot('r1', 5);
    const s = sockets[0];
    expect(s.sent).toEqual([]);
    s.open();
    expect(s.sent.map((m) => m.method)).toEqual(['listRuns', 'vlbSnapshot']);
    expect(s.sent[1].params).toEqual(['r1', 5]);
    expect(s.sent[0].id).not.toBe(s.sent[1].id);
    // Replies out of order still land on the right promise.
    s.reply({ id: s.sent[1].id, result: null });
    s.reply({ id: s.sent[0].id, result: [] });
    await expect(a).resolves.toEqual([]);
    await expect(b).resolves.toBeNull();
  });

  it('rejects with the ApiError fields attached', async () => {
    const { client, sockets } = setup();
    sockets[0].open();
    const p = client.startRun('nope');
    const id = sockets[0].sent[0].id;
    sockets[0].reply({ id, error: { message: 'no run nope', code: 'not-found', field: 'runId' } });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioApiError);
    expect(err).toBeInstanceOf(Error);
    expect((err as StudioApiError).message).toBe('no run nope');
    expect((err as StudioApiError).code).toBe('not-found');
    expect((err as StudioApiError).field).toBe('runId');
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const { client, sockets } = setup();
    sockets[0].open();
    const got: StudioEvent[] = [];
    const off = client.subscribe((e) => got.push(e));
    const ev: StudioEvent = { type: 'runDeleted', runId: 'r1' };
    sockets[0].reply({ event: ev });
    off();
    sockets[0].reply({ event: ev });
    expect(got).toEqual([ev]);
  });

  it('reconnects with backoff, reports the states, and rejects requests lost in the drop', async () => {
    const { client, sockets, timers } = setup();
    const states: ConnectionState[] = [];
    client.onConnection((s) => states.push(s));
    sockets[0].open();
    const lost = client.listRuns();
    sockets[0].drop();
    await expect(lost).rejects.toThrow(/closed/);
    expect(timers.length).toBe(1);
    timers[0]();
    expect(sockets.length).toBe(2);
    sockets[1].open();
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
    // Requests after the reconnect go over the new socket.
    void client.listJobs();
    expect(sockets[1].sent.map((m) => m.method)).toEqual(['listJobs']);
  });
});
