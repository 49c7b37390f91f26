/**
 * A small server-side WebSocket (RFC 6455) over Node's HTTP 'upgrade' event, enough for the studio's
 * JSON messages: the handshake (Sec-WebSocket-Accept), text frames, client masking (required), 16/64-bit
 * payload lengths, fragmented messages, ping/pong (the server also pings idle peers), and the close
 * handshake. Binary messages are refused (close 1003). A peer that breaks the protocol is closed; it can
 * never take the server down. No dependency: the `ws` package is not needed for this.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface WebSocketOptions {
  /** Largest message (after reassembly) accepted, bytes; larger ones close the socket with 1009. */
  maxMessageBytes?: number;
  /** Ping the peer this often (ms) and drop it when the previous ping got no pong; 0 = never. */
  heartbeatMs?: number;
  /** Drop the peer when this many bytes are waiting to be written to it (a stalled client). */
  maxBufferedBytes?: number;
}

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Encodes one unfragmented, unmasked frame (server → client); `mask` is for tests that play the client. */
export function encodeFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const fin = opts.fin ?? true;
  const len = payload.length;
  const maskBit = opts.mask ? 0x80 : 0;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = maskBit | len;
  } else if (len < 0x10000) {
    header = Buffer.alloc(4);
    header[1] = maskBit | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (!opts.mask) return Buffer.concat([header, payload]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ opts.mask[i & 3];
  return Buffer.concat([header, opts.mask, masked]);
}

export interface WebSocketEvents {
  message: [text: string];
  close: [code: number, reason: string];
}

/** One accepted connection. Emits 'message' (a whole text message) and 'close' (once). */
export class WebSocketConnection extends EventEmitter<WebSocketEvents> {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentOpcode = -1;
  private closing = false;
  private closed = false;
  private awaitingPong = false;
  /** Set after a protocol error: nothing more is read from this peer. */
  private ignoreInput = false;
  private closeCode = 1006;
  private closeReason = '';
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly maxMessageBytes: number;
  private readonly maxBufferedBytes: number;

  constructor(private readonly socket: Duplex, head: Buffer, opts: WebSocketOptions = {}) {
    super();
    this.maxMessageBytes = opts.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 32 * 1024 * 1024;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.finish(1006, 'socket error'));
    socket.on('close', () => this.finish(1006, 'connection lost'));
    socket.on('end', () => this.finish(1006, 'connection ended'));
    const hb = opts.heartbeatMs ?? 30_000;
    if (hb > 0) {
      this.heartbeat = setInterval(() => {
        if (this.awaitingPong) {
          this.terminate();
          return;
        }
        this.awaitingPong = true;
        this.sendFrame(OPCODE.ping, Buffer.alloc(0));
      }, hb);
      this.heartbeat.unref();
    }
    if (head.length > 0) this.onData(head);
  }

  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  /** Sends one text message; false when the socket is closing or was dropped for falling behind. */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    if (this.socket.writableLength > this.maxBufferedBytes) {
      this.terminate();
      return false;
    }
    return this.sendFrame(OPCODE.text, Buffer.from(text, 'utf8'));
  }

  /** Starts the close handshake (the peer answers, then the TCP connection ends). */
  close(code = 1000, reason = ''): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    const r = Buffer.from(reason, 'utf8').subarray(0, 123);
    const payload = Buffer.alloc(2 + r.length);
    payload.writeUInt16BE(code, 0);
    r.copy(payload, 2);
    this.sendFrame(OPCODE.close, payload);
    // Do not wait forever for the peer's close frame.
    setTimeout(() => this.terminate(), 2000).unref();
    this.closeCode = code;
    this.closeReason = reason;
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.finish(this.closeCode, this.closeReason);
  }

  private sendFrame(opcode: number, payload: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    try {
      this.socket.write(encodeFrame(opcode, payload));
      return true;
    } catch {
      this.finish(1006, 'write failed');
      return false;
    }
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.buffer = Buffer.alloc(0);
    this.fragments = [];
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit('close', code, reason);
  }

  private protocolError(code: number, reason: string): void {
    this.ignoreInput = true;
    this.buffer = Buffer.alloc(0);
    this.close(code, reason);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ignoreInput) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (!this.closed && !this.ignoreInput && this.parseFrame()) {
      /* keep parsing */
    }
  }

  /** Parses one frame from the buffer; false when more bytes are needed or the connection is done. */
  private parseFrame(): boolean {
    const b = this.buffer;
    if (b.length < 2) return false;
    const fin = (b[0] & 0x80) !== 0;
    const rsv = b[0] & 0x70;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let offset = 2;
    if (rsv !== 0) return this.protocolError(1002, 'reserved bits set'), false;
    if (!masked) return this.protocolError(1002, 'client frames must be masked'), false;
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.maxMessageBytes)) return this.protocolError(1009, 'message too big'), false;
      len = Number(big);
      offset = 10;
    }
    if (len > this.maxMessageBytes) return this.protocolError(1009, 'message too big'), false;
    if (b.length < offset + 4 + len) return false;
    const mask = b.subarray(offset, offset + 4);
    const payload = Buffer.allocUnsafe(len);
    const start = offset + 4;
    for (let i = 0; i < len; i++) payload[i] = b[start + i] ^ mask[i & 3];
    this.buffer = b.subarray(start + len);

    if (opcode >= 0x8) {
      // Control frames: never fragmented, at most 125 bytes.
      if (!fin || len > 125) return this.protocolError(1002, 'bad control frame'), false;
      if (opcode === OPCODE.ping) this.sendFrame(OPCODE.pong, payload);
      else if (opcode === OPCODE.pong) this.awaitingPong = false;
      else if (opcode === OPCODE.close) {
        const code = len >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = len > 2 ? payload.subarray(2).toString('utf8') : '';
        if (!this.closing) {
          this.closing = true;
          this.sendFrame(OPCODE.close, len >= 2 ? payload.subarray(0, 2) : Buffer.alloc(0));
        }
        this.finish(code, reason);
        return false;
      } else return this.protocolError(1002, `unknown opcode ${opcode}`), false;
      return true;
    }

    if (opcode === OPCODE.continuation) {
      if (this.fragmentOpcode < 0) return this.protocolError(1002, 'continuation without a first fragment'), false;
    } else if (opcode === OPCODE.text || opcode === OPCODE.binary) {
      if (this.fragmentOpcode >= 0) return this.protocolError(1002, 'new message inside a fragmented one'), false;
      this.fragmentOpcode = opcode;
    } else {
      return this.protocolError(1002, `unknown opcode ${opcode}`), false;
    }
    this.fragmentBytes += len;
    if (this.fragmentBytes > this.maxMessageBytes) return this.protocolError(1009, 'message too big'), false;
    this.fragments.push(payload);
    if (!fin) return true;

    const whole = this.fragments.length === 1 ? this.fragments[0] : Buffer.concat(this.fragments);
    const kind = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = -1;
    if (kind === OPCODE.binary) return this.protocolError(1003, 'only text messages are accepted'), false;
    let text: string;
    try {
      text = this.decoder.decode(whole);
    } catch {
      return this.protocolError(1007, 'text message is not valid UTF-8'), false;
    }
    if (this.isOpen) this.emit('message', text);
    return true;
  }
}

/** Writes a plain HTTP error on a socket that asked to upgrade, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  const statusText = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 426: 'Upgrade Required' }[status] ?? 'Error';
  try {
    socket.end(
      `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  } catch {
    socket.destroy();
  }
}

/**
 * Completes the opening handshake of an upgrade request (after the caller checked auth and path) and
 * returns the connection, or refuses it with 400/426 when it is not a valid WebSocket request.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, opts?: WebSocketOptions): WebSocketConnection | null {
  const key = req.headers['sec-websocket-key'];
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const version = req.headers['sec-websocket-version'];
  if (req.method !== 'GET' || upgrade !== 'websocket' || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    refuseUpgrade(socket, 400, 'not a WebSocket handshake');
    return null;
  }
  if (version !== '13') {
    try {
      socket.end('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } catch {
      socket.destroy();
    }
    return null;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
  );
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  return new WebSocketConnection(socket, head, opts);
}
