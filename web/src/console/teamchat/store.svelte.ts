// Internal chat state (team rooms between agents), fed by the one live connection
// (../live.svelte.ts). The socket follows every room of the agent: `welcome` and `access` bring
// the room list with unread counts, `team_message` / `team_history` the messages (gap-free, in
// seq order), `team_ack` confirms a sent one. Older messages come from the history route, page by
// page. After a reconnect the hello carries the last seq this console has of each room, so the
// server replays exactly what was missed; unacknowledged messages are re-sent with the same
// client id (the server stores them once).
import { api } from '../../shared/api';
import { mergeAll, newClientId, type TeamMessage, type TeamRoom } from '../../shared/protocol';
import { codeText, errorText, ui } from '../state.svelte';
import { live, type LiveFrame } from '../live.svelte';

export type { TeamMessage, TeamRoom };

export interface TeamPending {
  client_id: string;
  body: string;
  failed?: string;
}

const PAGE = 50;

class TeamStore {
  rooms = $state<TeamRoom[]>([]);
  messages = $state<Record<number, TeamMessage[]>>({});
  pending = $state<Record<number, TeamPending[]>>({});
  /** room → agent id → name, for colleagues typing now. */
  typing = $state<Record<number, Record<number, string>>>({});
  /** Whether older messages than the loaded ones exist. */
  more = $state<Record<number, boolean>>({});
  selected = $state<number | null>(null);
  error = $state('');
  /** The last seq this console has of each room: where the server resumes after a reconnect. */
  private lastSeq = new Map<number, number>();
  private loaded = new Set<number>();

  constructor() {
    live.setTeamResume(() => [...this.lastSeq].map(([room, last_seq]) => ({ room, last_seq })));
    live.on('welcome', (f) => this.setRooms(f.team));
    live.on('access', (f) => this.setRooms(f.team));
    live.on('team_room', (f) => this.addRoom(f));
    live.on('team_message', (f) => this.onMessages(f.room, [f]));
    live.on('team_history', (f) => this.onMessages(f.room, f.messages));
    live.on('team_ack', (f) => this.dropPending(f.room, f.client_id));
    live.on('team_typing', (f) => this.onTyping(f));
    live.on('team_read', (f) => this.onRead(f.room, f.seq));
    live.on('error', (f) => this.onError(f));
  }

  unreadTotal(): number {
    return this.rooms.reduce((a, r) => a + r.unread, 0);
  }

  room(id: number | null): TeamRoom | undefined {
    return this.rooms.find((r) => r.id === id);
  }

  /** The server's list is the truth (unread counts included); rooms gone from it are dropped. */
  private setRooms(rooms: TeamRoom[]) {
    const ids = new Set(rooms.map((r) => r.id));
    for (const id of [...this.lastSeq.keys()]) {
      if (!ids.has(id)) {
        this.lastSeq.delete(id);
        this.loaded.delete(id);
        delete this.messages[id];
        delete this.pending[id];
      }
    }
    for (const r of rooms) if (!this.lastSeq.has(r.id)) this.lastSeq.set(r.id, r.last_seq);
    this.rooms = rooms;
    if (this.selected != null && !ids.has(this.selected)) this.selected = null;
  }

  private addRoom(f: LiveFrame<'team_room'>) {
    if (!this.rooms.some((r) => r.id === f.room.id)) this.rooms = [...this.rooms, f.room];
    // A new room is followed from its start: its messages arrive over the socket.
    if (!this.lastSeq.has(f.room.id)) this.lastSeq.set(f.room.id, 0);
    this.loaded.add(f.room.id);
  }

  private onMessages(roomId: number, add: TeamMessage[]) {
    if (!add.length) return;
    const list = this.messages[roomId] ?? [];
    this.messages[roomId] = mergeAll(list, add);
    this.lastSeq.set(roomId, Math.max(this.lastSeq.get(roomId) ?? 0, add[add.length - 1].seq));
    const room = this.room(roomId);
    if (!room) return;
    // Counted once: the welcome's count already covers what it reported as `last_seq`.
    const fresh = add.filter((m) => m.seq > room.last_seq && m.agent_id !== ui.me?.id);
    room.last_seq = Math.max(room.last_seq, add[add.length - 1].seq);
    room.last_message_at = add[add.length - 1].at;
    if (fresh.length && !this.reading(roomId)) room.unread += fresh.length;
    if (this.reading(roomId)) this.markRead(roomId);
    for (const m of add) if (this.typing[roomId]?.[m.agent_id]) delete this.typing[roomId][m.agent_id];
  }

  private reading(roomId: number): boolean {
    return this.selected === roomId && ui.path.startsWith('/team') && typeof document !== 'undefined' && document.visibilityState === 'visible';
  }

  private onTyping(f: LiveFrame<'team_typing'>) {
    if (f.agent_id === ui.me?.id) return;
    const now = { ...(this.typing[f.room] ?? {}) };
    if (f.typing) now[f.agent_id] = f.name;
    else delete now[f.agent_id];
    this.typing[f.room] = now;
  }

  private onRead(roomId: number, seq: number) {
    const room = this.room(roomId);
    if (!room || seq < room.read_seq) return;
    room.read_seq = seq;
    if (seq >= room.last_seq) room.unread = 0;
  }

  private dropPending(roomId: number, clientId: string) {
    this.pending[roomId] = (this.pending[roomId] ?? []).filter((p) => p.client_id !== clientId);
  }

  private onError(f: LiveFrame<'error'>) {
    if (!f.ref) return;
    for (const [room, list] of Object.entries(this.pending)) {
      const p = list.find((x) => x.client_id === f.ref);
      if (p) {
        p.failed = codeText(f.code, f.message);
        this.pending[Number(room)] = [...list];
      }
    }
  }

  /** Open a room: load its newest page once, mark it read. */
  async select(id: number) {
    this.selected = id;
    this.error = '';
    if (!this.loaded.has(id)) {
      this.loaded.add(id);
      await this.loadOlder(id, true);
    }
    this.markRead(id);
  }

  /** The page before the oldest loaded message (or the newest page). */
  async loadOlder(id: number, first = false) {
    const known = this.messages[id] ?? [];
    const before = first ? (this.lastSeq.get(id) ?? 0) + 1 : (known[0]?.seq ?? 1);
    try {
      const page = await api.get<{ items: TeamMessage[]; more: boolean }>(`/api/v1/team/rooms/${id}/messages?before=${before}&limit=${PAGE}`);
      this.messages[id] = mergeAll(page.items, this.messages[id] ?? []);
      this.more[id] = page.more;
    } catch (e) {
      if (first) this.loaded.delete(id);
      this.error = errorText(e);
    }
  }

  markRead(id: number) {
    const room = this.room(id);
    if (!room) return;
    room.unread = 0;
    if (room.last_seq > room.read_seq) {
      room.read_seq = room.last_seq;
      live.send({ type: 'team_read', room: id, seq: room.last_seq });
    }
  }

  send(room: number, body: string) {
    const client_id = newClientId();
    this.pending[room] = [...(this.pending[room] ?? []), { client_id, body }];
    live.sendTeamMessage({ type: 'team_message', room, client_id, body });
  }

  setTyping(room: number, typing: boolean) {
    live.send({ type: 'team_typing', room, typing });
  }

  /** Open (or create) the 1:1 room with a colleague and select it. */
  async direct(agentId: number) {
    try {
      const room = await api.post<TeamRoom>('/api/v1/team/direct', { agent_id: agentId });
      if (!this.rooms.some((r) => r.id === room.id)) this.rooms = [...this.rooms, room];
      if (!this.lastSeq.has(room.id)) this.lastSeq.set(room.id, room.last_seq);
      await this.select(room.id);
    } catch (e) {
      this.error = errorText(e);
    }
  }
}

export const team = new TeamStore();
