// The console's live chat state, fed by the agent socket.
import { ChatSocket, mergeBySeq, newClientId, socketUrl, type Frame } from '../../shared/protocol';
import type { Attachment } from '../../shared/api';
import { navigate, t, ui } from '../state.svelte';

export interface Conversation {
  id: number;
  status: 'queued' | 'active' | 'ended';
  outcome: string | null;
  visitor: { id: number; name: string | null; email: string | null };
  agent_id: number | null;
  agent_name: string | null;
  last_seq: number;
  created_at: number;
  last_message_at: number | null;
  last_visitor_message_at: number | null;
  last_agent_message_at: number | null;
  agent_read_seq: number;
  visitor_read_seq: number;
  page_url: string | null;
  preview: string | null;
}

export interface Message {
  conversation: number;
  seq: number;
  id: number;
  author: { kind: 'visitor' | 'agent' | 'system'; name?: string; agent_id?: number };
  body: string;
  attachment?: Attachment;
  at: number;
  client_id?: string;
  event?: import('../state.svelte').SystemEvent;
}

export interface Pending {
  client_id: string;
  body: string;
  attachment?: Attachment;
  failed?: string;
}

function visitorLabel(c: Conversation): string {
  return c.visitor.name || c.visitor.email || t('chat.visitor_n', { id: c.visitor.id });
}

class ChatStore {
  queue = $state<Conversation[]>([]);
  mine = $state<Conversation[]>([]);
  supervised = $state<Conversation[]>([]);
  messages = $state<Record<number, Message[]>>({});
  pending = $state<Record<number, Pending[]>>({});
  typing = $state<Record<number, { typing: boolean; draft?: string | null }>>({});
  unread = $state<Record<number, number>>({});
  visitorRead = $state<Record<number, number>>({});
  selected = $state<number | null>(null);
  connected = $state(false);
  incoming = $state<Conversation | null>(null);
  sneakPeek = $state(true);
  error = $state('');
  /** Who else is on a ticket page: ticket number → agent id → presence (T1). */
  presence = $state<Record<number, Record<number, { name: string; state: 'viewing' | 'replying' | 'left'; at: number }>>>({});
  /** Bumped when the server says a ticket changed; ticket pages refetch when theirs moves. */
  ticketVersion = $state<Record<number, number>>({});
  private socket: ChatSocket | null = null;
  /** Conversations opened read-only (not mine). */
  private following = new Set<number>();

  label = visitorLabel;

  unreadTotal(): number {
    return Object.values(this.unread).reduce((a, b) => a + b, 0);
  }

  start() {
    if (this.socket) return;
    this.socket = new ChatSocket({
      url: socketUrl('/ws/agent'),
      hello: () => ({
        type: 'hello',
        v: 1,
        resume: Object.entries(this.messages).map(([c, list]) => ({ conversation: Number(c), last_seq: list.at(-1)?.seq ?? 0 })),
      }),
      onFrame: (f) => this.onFrame(f),
      onState: (s, code) => {
        this.connected = s === 'open';
        if (code === 4001) {
          ui.me = null;
          navigate('/login', true);
        }
      },
    });
    this.socket.connect();
  }

  stop() {
    this.socket?.close();
    this.socket = null;
  }

  find(id: number): Conversation | undefined {
    return this.mine.find((c) => c.id === id) ?? this.supervised.find((c) => c.id === id) ?? this.queue.find((c) => c.id === id);
  }

  isMine(id: number): boolean {
    return this.mine.some((c) => c.id === id && c.agent_id === ui.me?.id && c.status === 'active');
  }

  private upsert(list: Conversation[], c: Conversation): Conversation[] {
    return list.some((x) => x.id === c.id) ? list.map((x) => (x.id === c.id ? c : x)) : [...list, c];
  }

  private onFrame(f: Frame) {
    switch (f.type) {
      case 'welcome':
        this.queue = f.queue;
        this.mine = f.mine;
        this.supervised = f.supervised;
        this.sneakPeek = f.sneak_peek;
        break;
      case 'queue':
        if (f.op === 'add' && f.conversation) {
          this.queue = this.upsert(this.queue, f.conversation);
          this.notifyIncoming(f.conversation);
        } else if (f.op === 'remove') {
          this.queue = this.queue.filter((c) => c.id !== f.conversation);
          if (this.incoming?.id === f.conversation) this.incoming = null;
        }
        break;
      case 'accepted':
        this.mine = this.upsert(this.mine, f.conversation);
        this.queue = this.queue.filter((c) => c.id !== f.conversation.id);
        this.selected = f.conversation.id;
        this.incoming = null;
        break;
      case 'opened':
        this.following.add(f.conversation.id);
        if (f.conversation.agent_id !== ui.me?.id) this.supervised = this.upsert(this.supervised, f.conversation);
        break;
      case 'message':
        this.onMessage(f as unknown as Message);
        break;
      case 'ack':
        this.pending[f.conversation] = (this.pending[f.conversation] ?? []).filter((p) => p.client_id !== f.client_id);
        break;
      case 'typing':
        this.typing[f.conversation] = { typing: f.typing, draft: f.draft };
        break;
      case 'read':
        this.visitorRead[f.conversation] = f.seq;
        break;
      case 'status':
        for (const list of [this.mine, this.supervised]) {
          const c = list.find((x) => x.id === f.conversation);
          if (c) {
            c.status = f.status;
            if (f.outcome) c.outcome = f.outcome;
          }
        }
        break;
      case 'chat':
        if (f.op === 'ended') {
          const c = this.mine.find((x) => x.id === f.conversation) ?? this.supervised.find((x) => x.id === f.conversation);
          if (c) c.status = 'ended';
        }
        break;
      case 'presence':
        if (f.agent_id !== ui.me?.id) {
          const here = { ...(this.presence[f.ticket] ?? {}) };
          if (f.state === 'left') delete here[f.agent_id];
          else here[f.agent_id] = { name: f.name, state: f.state, at: Date.now() };
          this.presence[f.ticket] = here;
        }
        break;
      case 'ticket':
        this.ticketVersion[f.number] = (this.ticketVersion[f.number] ?? 0) + 1;
        break;
      case 'error':
        if (f.ref) {
          for (const [conv, list] of Object.entries(this.pending)) {
            const p = list.find((x) => x.client_id === f.ref);
            if (p) {
              p.failed = f.message;
              this.pending[Number(conv)] = [...list];
            }
          }
        } else {
          this.error = f.message;
        }
        break;
    }
  }

  private onMessage(m: Message) {
    const list = this.messages[m.conversation] ?? [];
    const merged = mergeBySeq(list, m);
    if (merged === list) return;
    this.messages[m.conversation] = merged;
    const c = this.find(m.conversation);
    if (c) {
      c.last_seq = Math.max(c.last_seq, m.seq);
      if (m.author.kind !== 'system') c.preview = m.body || m.attachment?.name || c.preview;
    }
    if (m.author.kind === 'visitor' && this.isMine(m.conversation)) {
      this.socket?.send({ type: 'delivered', conversation: m.conversation, seq: m.seq });
      if (this.selected === m.conversation && document.visibilityState === 'visible') this.markRead(m.conversation);
      else {
        this.unread[m.conversation] = (this.unread[m.conversation] ?? 0) + 1;
        notify(t('chat.new_message_from', { name: c ? visitorLabel(c) : '' }), m.body);
      }
    }
  }

  private notifyIncoming(c: Conversation) {
    this.incoming = c;
    beep();
    notify(t('chat.incoming'), c.preview ?? '');
  }

  select(id: number) {
    this.selected = id;
    this.unread[id] = 0;
    const known = this.messages[id];
    if (!this.isMine(id) && !this.following.has(id)) {
      this.socket?.send({ type: 'open', conversation: id, last_seq: known?.at(-1)?.seq ?? 0 });
    }
    this.markRead(id);
  }

  markRead(id: number) {
    const last = this.messages[id]?.at(-1)?.seq;
    if (last && this.isMine(id)) this.socket?.send({ type: 'read', conversation: id, seq: last });
    this.unread[id] = 0;
  }

  accept(id: number) {
    this.socket?.send({ type: 'accept', conversation: id });
  }

  send(conversation: number, body: string, attachment?: Attachment) {
    const client_id = newClientId();
    this.pending[conversation] = [...(this.pending[conversation] ?? []), { client_id, body, attachment }];
    this.socket?.sendMessage({ type: 'message', conversation, client_id, body, ...(attachment ? { attachment: attachment.token } : {}) });
  }

  setTyping(conversation: number, typing: boolean) {
    this.socket?.send({ type: 'typing', conversation, typing });
  }

  end(conversation: number) {
    this.socket?.send({ type: 'end', conversation });
  }

  /** Tell colleagues this agent is viewing / replying to / has left a ticket. */
  sendPresence(ticket: number, state: 'viewing' | 'replying' | 'left') {
    this.socket?.send({ type: 'viewing', ticket, state });
  }

  /** Colleagues on a ticket now (entries not refreshed for 40 s are stale). */
  othersOn(ticket: number): { name: string; state: string }[] {
    const now = Date.now();
    return Object.values(this.presence[ticket] ?? {}).filter((p) => now - p.at < 40_000);
  }
}

export const chat = new ChatStore();

/** A short two-tone chime made on the spot (no sound file to fetch). */
export function beep() {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.connect(g);
    g.connect(ctx.destination);
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(660, ctx.currentTime + 0.12);
    g.gain.setValueAtTime(0.15, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.35);
    o.start();
    o.stop(ctx.currentTime + 0.35);
  } catch {
    // no audio available
  }
}

function notify(title: string, body: string) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState === 'visible') return;
  try {
    new Notification(title, { body, tag: 'frontdesk' });
  } catch {
    // some browsers only allow notifications from a service worker
  }
}

export function askNotificationPermission() {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission();
}
