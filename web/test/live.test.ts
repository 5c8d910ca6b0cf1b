import { afterEach, describe, expect, it, vi } from 'vitest';
import { setFetch } from '../src/shared/api';
import { live } from '../src/console/live.svelte';
import { desk, DEBOUNCE_MS } from '../src/console/tickets/desk.svelte';
import { presence } from '../src/console/presence.svelte';
import type { AgentWelcomeFrame } from '../src/shared/protocol';

const welcome: AgentWelcomeFrame = { type: 'welcome', v: 1, agent: { id: 1, name: 'Olga', role: 'admin' }, queue: [], mine: [], supervised: [], sneak_peek: true, team: [] };

function fakeServer() {
  const calls: string[] = [];
  setFetch(async (input) => {
    const path = String(input);
    calls.push(path);
    const body = path.includes('counts') ? { open: 1, pending: 0, snoozed: 0, solved: 0, spam: 0, mine_open: 0, unassigned_open: 1 } : { items: [] };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}

afterEach(() => {
  desk.stop();
  vi.useRealTimers();
});

describe('live event bus', () => {
  it('hands each frame only to the handlers of its type, until they unsubscribe', () => {
    const tickets: number[] = [];
    const off = live.on('ticket', (f) => tickets.push(f.number));
    live.emit({ type: 'pong' });
    live.emit({ type: 'ticket', op: 'changed', number: 1001 });
    off();
    live.emit({ type: 'ticket', op: 'changed', number: 1002 });
    expect(tickets).toEqual([1001]);
  });

  it('keeps other subscribers going when one throws', () => {
    const seen: number[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const offA = live.on('presence', () => {
      throw new Error('broken');
    });
    const offB = live.on('presence', (f) => seen.push(f.ticket));
    live.emit({ type: 'presence', ticket: 7, agent_id: 2, name: 'Kim', state: 'viewing', at: 0 });
    offA();
    offB();
    expect(seen).toEqual([7]);
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });
});

describe('desk: pushed ticket changes', () => {
  it('refetches counters once per burst and bumps the list and the changed tickets', async () => {
    vi.useFakeTimers();
    const calls = fakeServer();
    desk.start();
    await vi.runAllTimersAsync();
    calls.length = 0;
    const list = desk.listVersion;
    for (const n of [1001, 1002, 1001]) live.emit({ type: 'ticket', op: 'changed', number: n });
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(calls.filter((c) => c.includes('/tickets/counts'))).toHaveLength(1);
    expect(desk.listVersion).toBe(list + 1);
    expect(desk.ticketVersion[1001]).toBeGreaterThan(0);
    expect(desk.ticketVersion[1002]).toBeGreaterThan(0);
    expect(desk.counts?.open).toBe(1);
  });

  it('refetches after a reconnect (a second welcome), not on the first', async () => {
    vi.useFakeTimers();
    const calls = fakeServer();
    desk.start();
    await vi.runAllTimersAsync();
    calls.length = 0;
    live.emit(welcome);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(calls).toEqual([]);
    live.emit(welcome);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(calls.some((c) => c.includes('/tickets/counts'))).toBe(true);
  });

  it('does nothing while stopped (signed out)', async () => {
    vi.useFakeTimers();
    const calls = fakeServer();
    live.emit({ type: 'ticket', op: 'changed', number: 1 });
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS * 2);
    expect(calls).toEqual([]);
  });
});

describe('presence', () => {
  it('tracks colleagues per ticket and forgets those who left', () => {
    live.emit({ type: 'presence', ticket: 1001, agent_id: 2, name: 'Kim', state: 'replying', at: 0 });
    expect(presence.othersOn(1001)).toEqual([{ name: 'Kim', state: 'replying', at: expect.any(Number) }]);
    live.emit({ type: 'presence', ticket: 1001, agent_id: 2, name: 'Kim', state: 'left', at: 0 });
    expect(presence.othersOn(1001)).toEqual([]);
  });
});

describe('access frame (rights re-checked by the server)', () => {
  it('drops chats the agent may no longer follow and shows the new role', async () => {
    const { chat } = await import('../src/console/chat/store.svelte');
    const { ui } = await import('../src/console/state.svelte');
    const conv = (id: number, agent_id: number) =>
      ({ id, status: 'active', outcome: null, visitor: { id, name: null, email: null }, agent_id, agent_name: 'Kim', department_id: null, last_seq: 1, created_at: 0, assigned_at: 0, ended_at: null, last_message_at: 0, last_visitor_message_at: 0, last_agent_message_at: null, agent_delivered_seq: 0, agent_read_seq: 0, visitor_read_seq: 0, page_url: null, preview: null, tags: [] as string[] }) as const;
    ui.me = { id: 1, name: 'Olga', role: 'supervisor' } as typeof ui.me;
    live.emit({ ...welcome, agent: { id: 1, name: 'Olga', role: 'supervisor' }, supervised: [conv(7, 2), conv(8, 3)] });
    chat.selected = 7;
    live.emit({ type: 'access', role: 'agent', unfollowed: [7], team: [] });
    expect(chat.supervised.map((c) => c.id)).toEqual([8]);
    expect(chat.selected).toBe(null);
    expect(ui.me?.role).toBe('agent');
  });
});

describe('team work frames (transfer, take-over)', () => {
  const conv = (id: number, agent_id: number) =>
    ({ id, status: 'active', outcome: null, visitor: { id, name: 'Vera', email: null }, agent_id, agent_name: 'Olga', department_id: null, last_seq: 1, created_at: 0, assigned_at: 0, ended_at: null, last_message_at: 0, last_visitor_message_at: 0, last_agent_message_at: null, agent_delivered_seq: 0, agent_read_seq: 0, visitor_read_seq: 0, page_url: null, preview: null, tags: [] as string[] }) as const;

  it('a chat transferred away leaves My chats; taken over, the former agent is told and keeps it read-only', async () => {
    const { chat } = await import('../src/console/chat/store.svelte');
    const { ui } = await import('../src/console/state.svelte');
    fakeServer();
    ui.me = { id: 1, name: 'Olga', role: 'agent' } as typeof ui.me;
    live.emit({ ...welcome, agent: { id: 1, name: 'Olga', role: 'agent' }, mine: [conv(7, 1), conv(8, 1)], supervised: [] });
    live.emit({ type: 'transferred', conversation: 7, from_agent: 1, to_agent: 2, to_department: null, by: 1, by_name: 'Olga' });
    expect(chat.mine.map((c) => c.id)).toEqual([8]);
    expect(chat.notice).toBe('');
    expect(chat.supervised.find((c) => c.id === 7)?.agent_id).toBe(2);
    live.emit({ type: 'taken_over', conversation: 8, from_agent: 1, agent_id: 5, name: 'Sue' });
    expect(chat.mine).toEqual([]);
    expect(chat.notice).toContain('Sue');
    expect(chat.isMine(8)).toBe(false);
    expect(chat.find(8)?.agent_id).toBe(5);
  });

  it('a transfer answer resolves the waiting dialog; a refusal comes back as its reason', async () => {
    const { chat } = await import('../src/console/chat/store.svelte');
    const sent = vi.spyOn(live, 'send').mockReturnValue(true);
    const ok = chat.transfer(8, { agent_id: 2 }, '  note  ', false);
    expect(sent).toHaveBeenLastCalledWith({ type: 'transfer', conversation: 8, agent_id: 2, note: 'note' });
    live.emit({ type: 'transferred', conversation: 8, from_agent: 5, to_agent: 2, to_department: null, by: 1, by_name: 'Olga' });
    expect(await ok).toBe('');
    const refused = chat.transfer(8, { department_id: 3 }, '', true);
    expect(sent).toHaveBeenLastCalledWith({ type: 'transfer', conversation: 8, department_id: 3, force: true });
    live.emit({ type: 'error', code: 'agent_full', message: 'all chat slots are taken', ref: null });
    expect(await refused).not.toBe('');
    sent.mockRestore();
  });
});
