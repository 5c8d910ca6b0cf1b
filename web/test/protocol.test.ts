import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, ChatSocket, coalesce, mergeAll, mergeBySeq, newClientId, parseFrame, type ClientFrame, type ServerFrame, type VisitorClientFrame, type VisitorServerFrame } from '../src/shared/protocol';

class FakeSocket {
  static all: FakeSocket[] = [];
  sent: ClientFrame[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) {
    this.sent.push(JSON.parse(s));
  }
  close() {}
  open() {
    this.onopen?.();
  }
  receive(f: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

describe('backoff', () => {
  it('doubles from 0.5 s up to 30 s with ±50 % jitter', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, () => 0.5)).toBe(30_000);
    expect(backoffDelay(2, () => 0)).toBe(1000);
    expect(backoffDelay(2, () => 0.999)).toBeLessThan(3000);
  });
});

describe('ChatSocket', () => {
  it('says hello first, keeps unacked messages and re-sends them after a reconnect', () => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    let resumeFrom = 0;
    const frames: VisitorServerFrame[] = [];
    const s = new ChatSocket<VisitorClientFrame, VisitorServerFrame>({
      url: 'ws://x/ws/visitor',
      hello: () => ({ type: 'hello', v: 1, resume: { conversation: 1, last_seq: resumeFrom } }),
      onFrame: (f) => frames.push(f),
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      random: () => 0.5,
    });
    s.connect();
    const first = FakeSocket.all[0];
    s.sendMessage({ type: 'message', client_id: 'a', body: '1' }); // before open: queued
    first.open();
    expect(first.sent.map((f) => f.type)).toEqual(['hello', 'message']);
    s.sendMessage({ type: 'message', client_id: 'b', body: '2' });
    first.receive({ type: 'ack', client_id: 'a', conversation: 1, seq: 1, id: 10, at: 0 });
    expect([...s.pending.keys()]).toEqual(['b']);
    resumeFrom = 1;
    first.drop();
    expect(s.state).toBe('closed');
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all.length).toBe(1);
    vi.advanceTimersByTime(1);
    const second = FakeSocket.all[1];
    second.open();
    expect(second.sent).toEqual([{ type: 'hello', v: 1, resume: { conversation: 1, last_seq: 1 } }, { type: 'message', client_id: 'b', body: '2' }]);
    // A refused message is not retried forever; a rate-limited one is.
    s.sendMessage({ type: 'message', client_id: 'c', body: 'x' });
    second.receive({ type: 'error', code: 'forbidden', ref: 'c', message: 'no' });
    second.receive({ type: 'error', code: 'rate_limited', ref: 'b', message: 'slow' });
    expect([...s.pending.keys()]).toEqual(['b']);
    // Garbage from the server is ignored, not thrown.
    second.onmessage?.({ data: 'not json' });
    const last = frames.at(-1);
    expect(last?.type === 'error' && last.code).toBe('rate_limited');
    vi.useRealTimers();
  });

  it('does not reconnect after a final close code', () => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    const s = new ChatSocket<VisitorClientFrame, VisitorServerFrame>({ url: 'ws://x', hello: () => ({ type: 'hello', v: 1 }), onFrame: () => {}, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    s.connect();
    FakeSocket.all[0].open();
    FakeSocket.all[0].drop(4001);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all.length).toBe(1);
    vi.useRealTimers();
  });
});

describe('parseFrame', () => {
  it('accepts objects with a string type and nothing else', () => {
    expect(parseFrame('{"type":"pong"}')).toEqual({ type: 'pong' });
    for (const bad of ['not json', '[1]', 'null', '{"type":3}', '"pong"']) expect(parseFrame(bad)).toBeNull();
  });
});

describe('mergeBySeq', () => {
  it('keeps order and drops duplicates', () => {
    let l: { seq: number }[] = [];
    for (const seq of [1, 2, 4, 3, 2, 5]) l = mergeBySeq(l, { seq });
    expect(l.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('mergeAll (finding 16d: opening a long chat was quadratic)', () => {
  /** Messages whose `seq` counts every read: the merge's work, independent of the clock. */
  function counted(seqs: number[]) {
    const c = { reads: 0 };
    const list = seqs.map((seq) => ({
      get seq() {
        c.reads++;
        return seq;
      },
    }));
    return { c, list };
  }
  const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

  it('merges a 4,000-message replay into a chat in one linear pass, in order, without duplicates', () => {
    // The widget already holds the even messages (and 3999/4000 that arrived live); the replay
    // brings all 4,000 (overlapping): the worst case for a merge.
    const have = counted([...range(2, 3998, 2), 3999, 4000]);
    const replay = counted(range(1, 4000));
    const merged = mergeAll(have.list, replay.list);
    expect(merged.map((m) => m.seq)).toEqual(range(1, 4000));
    const n = have.list.length + replay.list.length;
    // Each element is looked at a few times, not once per other element.
    expect(have.c.reads + replay.c.reads).toBeLessThanOrEqual(5 * n);
  });

  it('does twice the work for twice the messages (linear, not quadratic)', () => {
    const work = (n: number) => {
      const have = counted(range(2, n, 2));
      const replay = counted(range(1, n));
      mergeAll(have.list, replay.list);
      return have.c.reads + replay.c.reads;
    };
    expect(work(8000) / work(4000)).toBeLessThan(2.1);
  });

  it('appends a replay that follows what is there without looking at each message', () => {
    const have = counted(range(1, 2000));
    const replay = counted(range(2001, 4000));
    const merged = mergeAll(have.list, replay.list);
    expect(merged.length).toBe(4000);
    expect(have.c.reads + replay.c.reads).toBeLessThanOrEqual(2);
    expect(mergeAll(have.list, [])).toBe(have.list);
  });
});

it('client ids fit the protocol', () => {
  const id = newClientId();
  expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  expect(id).not.toBe(newClientId());
});

describe('coalesce (a long chat caught up at once sent, and re-drew, one receipt per message)', () => {
  it('runs the first value at once, merges a burst into one trailing call, then rests', () => {
    vi.useFakeTimers();
    try {
      const runs: number[] = [];
      const push = coalesce<number>(100, (v) => runs.push(v), Math.max);
      push(1);
      expect(runs).toEqual([1]);
      for (let seq = 2; seq <= 2000; seq++) push(seq);
      push(7); // an older one arriving late does not move it back
      expect(runs).toEqual([1]);
      vi.advanceTimersByTime(100);
      expect(runs).toEqual([1, 2000]);
      // Nothing pending: the window closes without a call, and the next value goes at once.
      vi.advanceTimersByTime(100);
      expect(runs).toEqual([1, 2000]);
      push(2001);
      expect(runs).toEqual([1, 2000, 2001]);
    } finally {
      vi.useRealTimers();
    }
  });
});
