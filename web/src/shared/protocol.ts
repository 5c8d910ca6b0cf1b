// The socket client both apps use (protocol v1, docs/protocol.md): reconnects with
// exponential backoff and jitter, re-sends hello (carrying where the app left off) on every
// connect, keeps unacknowledged messages and re-sends them in order, sends heartbeats.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = { type: string; [key: string]: any };

export type SocketState = 'connecting' | 'open' | 'closed';

/** Close codes after which reconnecting cannot help. */
export const FINAL_CODES = [1008, 4000, 4001];

export interface ChatSocketOptions {
  url: string;
  /** Built at every (re)connect, so it carries the latest resume point. */
  hello: () => Frame;
  onFrame: (f: Frame) => void;
  onState?: (s: SocketState, code?: number) => void;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  heartbeatMs?: number;
}

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 30 s, ±50 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.5 + random()));
}

export function newClientId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return 'c' + Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}

export function socketUrl(path: string, loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${path}`;
}

export class ChatSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** client_id → frame, in send order; cleared by ack. */
  readonly pending = new Map<string, Frame>();
  state: SocketState = 'closed';

  constructor(private opts: ChatSocketOptions) {}

  connect(): void {
    this.stopped = false;
    this.open();
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopHeartbeat();
    this.ws?.close(1000);
    this.ws = null;
    this.setState('closed');
  }

  /** Fire-and-forget frames (typing, read): dropped while disconnected. */
  send(frame: Frame): boolean {
    if (this.ws && this.state === 'open') {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** A message that must arrive: kept until acknowledged, re-sent after reconnects. */
  sendMessage(frame: Frame & { client_id: string }): void {
    this.pending.set(frame.client_id, frame);
    this.send(frame);
  }

  private setState(s: SocketState, code?: number) {
    this.state = s;
    this.opts.onState?.(s, code);
  }

  private open() {
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    this.setState('connecting');
    const ws = new Impl(this.opts.url);
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify(this.opts.hello()));
      this.setState('open');
      this.attempt = 0;
      for (const f of this.pending.values()) ws.send(JSON.stringify(f));
      this.startHeartbeat();
    };
    ws.onmessage = (ev) => {
      let f: Frame;
      try {
        f = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (f.type === 'ack' && typeof f.client_id === 'string') this.pending.delete(f.client_id);
      // A message refused for good (not a passing rate limit) is not retried.
      if (f.type === 'error' && typeof f.ref === 'string' && f.code !== 'rate_limited' && f.code !== 'unavailable') this.pending.delete(f.ref);
      this.opts.onFrame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      this.setState('closed', ev.code);
      if (this.stopped || FINAL_CODES.includes(ev.code)) return;
      const delay = backoffDelay(this.attempt++, this.opts.random);
      this.timer = setTimeout(() => this.open(), delay);
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  private startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.send({ type: 'ping' }), this.opts.heartbeatMs ?? 25_000);
  }

  private stopHeartbeat() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

/** Messages of one conversation kept in seq order without duplicates. */
export function mergeBySeq<T extends { seq: number }>(list: T[], m: T): T[] {
  if (list.length === 0 || list[list.length - 1].seq < m.seq) return [...list, m];
  if (list.some((x) => x.seq === m.seq)) return list;
  return [...list, m].sort((a, b) => a.seq - b.seq);
}
