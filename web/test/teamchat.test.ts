import { describe, expect, it } from 'vitest';
import { live } from '../src/console/live.svelte';
import { team } from '../src/console/teamchat/store.svelte';
import { ui } from '../src/console/state.svelte';
import { ChatSocket, type AgentClientFrame, type AgentServerFrame, type TeamMessage, type TeamRoom } from '../src/shared/protocol';

const room = (id: number, over: Partial<TeamRoom> = {}): TeamRoom => ({
  id, kind: 'department', department_id: id, agent_id: null, name: `Dept ${id}`, last_seq: 0, read_seq: 0, unread: 0, last_message_at: null, ...over,
});
const msg = (room: number, seq: number, agent_id = 2): TeamMessage => ({ room, seq, id: seq, agent_id, name: 'Kim', body: `m${seq}`, at: seq });
const welcome = (team: TeamRoom[]): AgentServerFrame => ({ type: 'welcome', v: 1, agent: { id: 1, name: 'Olga', role: 'agent' }, queue: [], mine: [], supervised: [], sneak_peek: true, team });

describe('team store', () => {
  it('counts colleagues’ new messages once, resumes from the last seq it has, and drops lost rooms', () => {
    ui.me = { id: 1, name: 'Olga', role: 'agent' } as typeof ui.me;
    live.emit(welcome([room(5, { last_seq: 3, unread: 2 }), room(6)]));
    expect(team.unreadTotal()).toBe(2);
    // A replay of what the welcome already counted, then two new messages (one of them mine).
    live.emit({ type: 'team_history', room: 5, messages: [msg(5, 2), msg(5, 3)], more: false });
    live.emit({ type: 'team_message', ...msg(5, 4) });
    live.emit({ type: 'team_message', ...msg(5, 5, 1) });
    live.emit({ type: 'team_message', ...msg(5, 4) }); // a duplicate changes nothing
    expect(team.room(5)?.unread).toBe(3);
    expect(team.messages[5].map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    // Another tab read it all.
    live.emit({ type: 'team_read', room: 5, seq: 5 });
    expect(team.unreadTotal()).toBe(0);
    // Typing of a colleague shows, mine does not.
    live.emit({ type: 'team_typing', room: 6, agent_id: 2, name: 'Kim', typing: true });
    live.emit({ type: 'team_typing', room: 6, agent_id: 1, name: 'Olga', typing: true });
    expect(Object.values(team.typing[6])).toEqual(['Kim']);
    // Rights changed: room 5 is gone with its messages.
    live.emit({ type: 'access', role: 'agent', unfollowed: [], team: [room(6)] });
    expect(team.rooms.map((r) => r.id)).toEqual([6]);
    expect(team.messages[5]).toBeUndefined();
    // A colleague opened a 1:1 with me: followed from its start.
    live.emit({ type: 'team_room', room: room(9, { kind: 'direct', department_id: null, agent_id: 2, name: 'Kim' }) });
    live.emit({ type: 'team_message', ...msg(9, 1) });
    expect(team.room(9)?.unread).toBe(1);
  });

  it('asks the socket to resume each room after the last seq it has', () => {
    live.emit(welcome([room(7, { last_seq: 10 }), room(8, { last_seq: 2 })]));
    live.emit({ type: 'team_message', ...msg(7, 11) });
    // What live.svelte.ts puts into every hello's `team`.
    const resume = (live as unknown as { teamResumeFrom: () => { room: number; last_seq: number }[] }).teamResumeFrom();
    expect(resume).toContainEqual({ room: 7, last_seq: 11 });
    expect(resume).toContainEqual({ room: 8, last_seq: 2 });
  });
});

describe('ChatSocket and team messages', () => {
  it('keeps a team message until its team_ack and re-sends it after a reconnect', () => {
    const sockets: { sent: AgentClientFrame[]; open: () => void; receive: (f: AgentServerFrame) => void; drop: () => void }[] = [];
    class Fake {
      sent: AgentClientFrame[] = [];
      onopen: (() => void) | null = null;
      onmessage: ((e: { data: string }) => void) | null = null;
      onclose: ((e: { code: number }) => void) | null = null;
      onerror: (() => void) | null = null;
      constructor() {
        sockets.push({ sent: this.sent, open: () => this.onopen?.(), receive: (f) => this.onmessage?.({ data: JSON.stringify(f) }), drop: () => this.onclose?.({ code: 1006 }) });
      }
      send(s: string) {
        this.sent.push(JSON.parse(s));
      }
      close() {}
    }
    const s = new ChatSocket<AgentClientFrame, AgentServerFrame>({ url: 'ws://x', hello: () => ({ type: 'hello', v: 1, team: [{ room: 3, last_seq: 4 }] }), onFrame: () => {}, WebSocketImpl: Fake as unknown as typeof WebSocket, random: () => 0 });
    s.connect();
    sockets[0].open();
    s.sendMessage({ type: 'team_message', room: 3, client_id: 'c1', body: 'hi' });
    s.sendMessage({ type: 'team_message', room: 3, client_id: 'c2', body: 'there' });
    sockets[0].receive({ type: 'team_ack', client_id: 'c1', room: 3, seq: 5, id: 1, at: 0 });
    expect([...s.pending.keys()]).toEqual(['c2']);
    s['open'](); // what the backoff timer does after a drop
    sockets[1].open();
    expect(sockets[1].sent).toEqual([{ type: 'hello', v: 1, team: [{ room: 3, last_seq: 4 }] }, { type: 'team_message', room: 3, client_id: 'c2', body: 'there' }]);
    s.close();
  });
});
