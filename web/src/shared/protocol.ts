// The socket protocol both apps speak (v1, docs/protocol.md): every frame the server sends
// (`ServerFrame`, split by endpoint into `VisitorServerFrame` and `AgentServerFrame`) and every
// frame a client sends (`ClientFrame`), as discriminated unions on `type` with the exact fields
// the Rust senders write (src/chat/*_ws.rs, src/chat/socket.rs, src/chat/store.rs,
// src/tickets/http.rs, src/realtime/protocol.rs). Then the small client both apps use:
// reconnects with exponential backoff and jitter, re-sends hello (carrying where the app left
// off) on every connect, keeps unacknowledged messages and re-sends them in order, sends
// heartbeats.
import type { Attachment } from './api';

// ---------------------------------------------------------------------------------------------
// Shared shapes

export type ConvStatus = 'queued' | 'active' | 'ended';
export type Outcome = 'served' | 'cancelled' | 'missed';
export type EndedBy = 'agent' | 'visitor' | 'timeout' | 'system';
export type PresenceState = 'viewing' | 'replying' | 'left';
export type AgentRole = 'agent' | 'supervisor' | 'admin';

/** Error codes of socket `error` frames (and, with a few more, of the REST API). */
export type SocketErrorCode =
  | 'invalid_json' | 'unknown_type' | 'unknown_field' | 'invalid_frame' | 'too_large' | 'unsupported'
  | 'unsupported_version' | 'hello_required' | 'rate_limited' | 'forbidden' | 'not_found' | 'conflict'
  | 'unavailable' | 'internal' | 'invalid_input' | 'unauthenticated' | 'origin_not_allowed'
  /** A refused transfer: the agent's slots are full, they are offline or not accepting, or
   *  outside the chat's department. */
  | 'agent_full' | 'agent_unavailable' | 'not_in_department'
  | 'banned' | 'tag_required' | 'prechat_required';

/**
 * A system line's event: `{code, …params}` (src/events.rs). Known codes: joined {name},
 * visitor_left, agent_ended {name}, timeout, closed, status_changed {status, name}, reopened,
 * follow_up {number}, released {name}, merged_in {number, name, count}, merged_into {number},
 * split_from {number, name}, split_to {number}, requester_changed {from, to, name},
 * requester_set {to, name}; team work (SPEC C7): transferred_to_agent {from, to, note?},
 * transferred_to_department {from, department, note?}, taken_over {name, from} (internal lines,
 * agents only), handed_over {name}, handed_to_department {department} (what the visitor reads:
 * "You are now talking to …"). Clients must accept codes they do not know
 * (they show the message body instead), so the code stays a string.
 */
export type SystemEvent = { code: string } & { [param: string]: string | number | null };

export interface Author {
  kind: 'visitor' | 'agent' | 'system';
  name?: string;
  agent_id?: number;
}

/** One chat message (`MessageOut`), in `message` frames and the REST API. */
export interface ChatMessage {
  conversation: number;
  seq: number;
  id: number;
  author: Author;
  body: string;
  attachment?: Attachment;
  at: number;
  client_id?: string;
  event?: SystemEvent;
  /** An internal line (whisper, transfer note): only agents get it; absent on public ones. */
  internal?: true;
}

/** A conversation as agents see it (`chat::Conversation`). */
export interface Conversation {
  id: number;
  status: ConvStatus;
  outcome: Outcome | null;
  visitor: { id: number; name: string | null; email: string | null };
  agent_id: number | null;
  agent_name: string | null;
  department_id: number | null;
  last_seq: number;
  created_at: number;
  assigned_at: number | null;
  ended_at: number | null;
  last_message_at: number | null;
  last_visitor_message_at: number | null;
  last_agent_message_at: number | null;
  agent_delivered_seq: number;
  agent_read_seq: number;
  visitor_read_seq: number;
  page_url: string | null;
  preview: string | null;
  /** Tags from the shared vocabulary (GET /api/v1/tags), sorted. */
  tags: string[];
}

/** The visitor's own conversation in their `welcome` (`chat::socket::conv_frame`). */
export interface VisitorConversation {
  id: number;
  status: ConvStatus;
  last_seq: number;
  agent_name: string | null;
  agent_delivered_seq: number;
  agent_read_seq: number;
  /** The last message the visitor has seen (agent messages after it are unread). */
  visitor_read_seq: number;
}

/** A team room of the internal chat as one agent sees it (`teamchat::RoomSummary`). */
export interface TeamRoom {
  id: number;
  kind: 'department' | 'direct';
  /** Department rooms: the department. */
  department_id: number | null;
  /** Direct rooms: the other agent. */
  agent_id: number | null;
  /** The department's or the other agent's name. */
  name: string;
  last_seq: number;
  read_seq: number;
  /** Colleagues' messages after `read_seq`. */
  unread: number;
  last_message_at: number | null;
}

/** One internal-chat message (`TeamMessageOut`), in `team_message` frames and the history route. */
export interface TeamMessage {
  room: number;
  seq: number;
  id: number;
  agent_id: number;
  name: string;
  body: string;
  at: number;
  client_id?: string;
}

// ---------------------------------------------------------------------------------------------
// Server → client

export type AckFrame = { type: 'ack'; client_id: string; conversation: number; seq: number; id: number; at: number };
export type MessageFrame = { type: 'message' } & ChatMessage;
/** A replay of many messages in seq order (asked for with `hello.history`); `more`: another
 *  `history` frame of this replay follows. */
export type HistoryFrame = { type: 'history'; conversation: number; messages: ChatMessage[]; more: boolean };
/** The agent's rights changed while the socket was open: its role now, the chats it no longer
 *  follows, and all its team rooms now (only these are followed). */
export type AccessFrame = { type: 'access'; role: AgentRole; unfollowed: number[]; team: TeamRoom[] };
/**
 * Lifecycle: queued (visitor's first message), active (accepted), ended (with outcome). A
 * queued visitor gets one whenever their place changes: `position` (1 = next), an estimate,
 * how long they have waited, and after how many seconds the widget shows the "please wait"
 * line and the leave-a-message / callback offer.
 */
export type StatusFrame =
  | {
      type: 'status'; conversation: number; status: 'queued'; position: number; estimated_wait_s: number | null;
      waited_s: number; wait_notice_s: number; retention_s: number;
    }
  | { type: 'status'; conversation: number; status: 'active'; agent_name: string }
  | { type: 'status'; conversation: number; status: 'ended'; outcome: Outcome; ended_by: EndedBy };
/** `ref` is the client_id of the refused message, null when the error is not about one. */
export type ErrorFrame = { type: 'error'; code: SocketErrorCode; message: string; ref: string | null };
export type PongFrame = { type: 'pong' };

export type VisitorWelcomeFrame = {
  type: 'welcome';
  v: number;
  token: string;
  visitor: { id: number };
  conversation: VisitorConversation | null;
  sneak_peek: boolean;
  /** Accepting agents with a free slot (never open console tabs). */
  agents_online: number;
  /** Chat can start now (default department or any agent). */
  open: boolean;
  closed: ClosedReason | null;
  /** What to do when closed: the leave-a-message form, or hide the widget. */
  offline: OfflineBehaviour;
  /** Visible departments serving this site, each with its own state. */
  departments: WidgetDepartment[];
  default_department: number | null;
  /** Pre-chat forms by department id (W3); absent when no department has one. */
  prechat?: Record<string, PrechatForm>;
  /** What a verified visitor (W12) already gave; absent for everyone else. */
  known?: Known;
};
export type PrechatField = { kind: 'name' | 'email' | 'phone' | 'order' | 'custom'; required: boolean; label?: string };
export type PrechatForm = { fields: PrechatField[]; consent?: string };
export type PrechatAnswers = { name?: string; email?: string; phone?: string; order?: string; custom?: Record<string, string>; consent: boolean };
export type Known = { name: string | null; email: string | null; phone: string | null; consent: boolean };
/** A signed customer identity from the shop's page (W12, docs/api.md "Signed identity"). */
export type IdentityClaim = { id: string; name?: string; email?: string; ts: number; sig: string };
export type WidgetTexts = { launcher: string; greeting: string; offline: string };
/** `GET /api/v1/widget/settings`: how this widget looks, in the language it speaks (W2). */
export type ResolvedAppearance = {
  lang: string; texts: WidgetTexts; primary_color: string; text_color: string; position: 'left' | 'right';
  offset_x: number; offset_y: number; show_agent_name: boolean; sounds: boolean;
};
/** What an admin edits (`PUT /api/v1/settings/widget`). */
export type Appearance = Omit<ResolvedAppearance, 'lang' | 'texts'> & { language: string; texts: Record<string, WidgetTexts> };
export type ClosedReason = 'hours' | 'holiday' | 'nobody_accepting' | 'queue_full';
export type OfflineBehaviour = 'form' | 'hide';
export type AgentStatus = 'accepting' | 'not_accepting' | 'offline';
export interface WidgetDepartment { id: number; name: string; open: boolean; closed: ClosedReason | null; offline: OfflineBehaviour }
export type AgentTypingFrame = { type: 'typing'; conversation: number; who: 'agent'; name: string; typing: boolean };
export type ReceiptFrame = { type: 'receipt'; conversation: number; delivered_seq: number; read_seq: number };

export type AgentWelcomeFrame = {
  type: 'welcome';
  v: number;
  agent: { id: number; name: string; role: AgentRole };
  queue: Conversation[];
  mine: Conversation[];
  supervised: Conversation[];
  sneak_peek: boolean;
  /** Internal chat: the agent's team rooms, each followed by this socket. */
  team: TeamRoom[];
};
export type QueueFrame =
  | { type: 'queue'; op: 'add'; conversation: Conversation }
  /** `agent_id`: who accepted it; absent when the chat ended while queued. */
  | { type: 'queue'; op: 'remove'; conversation: number; agent_id?: number };
export type AcceptedFrame = { type: 'accepted'; conversation: Conversation };
export type OpenedFrame = { type: 'opened'; conversation: Conversation };
export type ChatEndedFrame = { type: 'chat'; op: 'ended'; conversation: number };
/** `draft` only with sneak peek on and while typing; otherwise null. */
export type VisitorTypingFrame = { type: 'typing'; conversation: number; who: 'visitor'; typing: boolean; draft: string | null };
export type VisitorReadFrame = { type: 'read'; conversation: number; by: 'visitor'; seq: number };
export type VisitorPageFrame = { type: 'visitor_page'; conversation: number; visitor: number; url: string; title: string | null; at: number };
export type PresenceFrame = { type: 'presence'; ticket: number; agent_id: number; name: string; state: PresenceState; at: number };
export type TicketChangedFrame = { type: 'ticket'; op: 'changed'; number: number };
/** An outgoing mail's delivery state changed (src/mail/mod.rs `publish_change`). */
export type MailChangedFrame = { type: 'mail'; op: 'changed'; id: number; status: 'pending' | 'sending' | 'sent' | 'failed' };
/** The visitor rated an ended chat (W8). */
export type RatedFrame = { type: 'rated'; conversation: number; rating: 'good' | 'bad'; comment: string | null; at: number };
/** Routing gave you this chat; your sockets follow it (its transcript follows). */
export type AssignedFrame = { type: 'assigned'; conversation: Conversation };
/** An agent's status changed (yours or a colleague's). */
export type AgentStatusFrame = { type: 'agent_status'; agent_id: number; status: AgentStatus };
/** A chat was transferred: `to_agent` has it now, or it waits in `to_department`'s queue. */
export type TransferredFrame = {
  type: 'transferred'; conversation: number; from_agent: number | null; to_agent: number | null; to_department: number | null;
  by: number; by_name: string;
};
/** A supervisor took the chat over from `from_agent`. */
export type TakenOverFrame = { type: 'taken_over'; conversation: number; from_agent: number | null; agent_id: number; name: string };

/** Internal chat (agent sockets only; a visitor socket never receives these). */
export type TeamMessageFrame = { type: 'team_message' } & TeamMessage;
/** A replay of a team room in seq order; `more`: another `team_history` frame follows. */
export type TeamHistoryFrame = { type: 'team_history'; room: number; messages: TeamMessage[]; more: boolean };
export type TeamAckFrame = { type: 'team_ack'; client_id: string; room: number; seq: number; id: number; at: number };
export type TeamTypingFrame = { type: 'team_typing'; room: number; agent_id: number; name: string; typing: boolean };
/** You (in this or another tab) read the room up to `seq`. */
export type TeamReadFrame = { type: 'team_read'; room: number; seq: number };
/** A new room is yours (a colleague opened a 1:1 with you); your sockets follow it. */
export type TeamRoomFrame = { type: 'team_room'; room: TeamRoom };

/** One visitor on the site now (`visitors::LiveVisitor`, SPEC C13). */
export interface LiveVisitor {
  id: number;
  name: string | null;
  email: string | null;
  page_url: string | null;
  page_title: string | null;
  /** The first external referrer of this visit, and the search words in it. */
  referrer: string | null;
  search_query: string | null;
  /** When this visit began, and when the current page was opened (ms). */
  since: number;
  page_since: number;
  /** Pages viewed in this visit; visits so far. */
  pages: number;
  visits: number;
  timezone: string | null;
  /** ISO 3166 code guessed from the time zone. */
  country: string | null;
  browser: string | null;
  os: string | null;
  device: 'desktop' | 'mobile' | 'tablet';
  state: 'browsing' | 'invited' | 'chatting';
  conversation: number | null;
  agent_id: number | null;
  agent_name: string | null;
  invitation: { id: number; agent_name: string; automatic: boolean; at: number } | null;
}
/** Everyone on the site now: the answer to `visitors {watch: true}`. */
export type VisitorsFrame = { type: 'visitors'; items: LiveVisitor[] };
/** A change of the live visitors list (to sockets watching it). */
export type VisitorChangeFrame = { type: 'visitor'; op: 'update'; visitor: LiveVisitor } | { type: 'visitor'; op: 'gone'; id: number };
/** An agent (or a rule, in an agent's name) invites the visitor to chat (W9). */
export type InvitationFrame = { type: 'invitation'; id: number; body: string; agent_name: string; at: number };
/** One department's line on the live monitor (`id` null: chats without a department). */
export type MonitorLine = {
  id: number | null; name: string | null; queue: number; longest_wait_s: number; in_progress: number;
  free_slots: number; wait_norm_s: number; alert: boolean;
};
/** The live monitor (src/reports/monitor.rs), to sockets that sent `monitor` `watch: true`. */
export type Monitor = {
  departments: MonitorLine[]; queue: number; longest_wait_s: number; in_progress: number; free_slots: number;
  agents: { accepting: number; not_accepting: number; offline: number };
  today: { served: number; missed: number; cancelled: number };
  alert: boolean;
  /** The graphs of the last 6 hours: one point per `step_s`, oldest first, each the highest value within it. */
  history: { step_s: number; points: MonitorPoint[] };
};
export type MonitorPoint = { at: number; queue: number; in_progress: number; accepting: number; online: number };
export type MonitorFrame = { type: 'monitor' } & Monitor;

/** What `/ws/visitor` sends. */
export type VisitorServerFrame = VisitorWelcomeFrame | AckFrame | MessageFrame | HistoryFrame | StatusFrame | AgentTypingFrame | ReceiptFrame | PongFrame | ErrorFrame | InvitationFrame;

/** What `/ws/agent` sends. */
export type AgentServerFrame =
  | AgentWelcomeFrame | QueueFrame | AcceptedFrame | OpenedFrame | ChatEndedFrame | AckFrame | MessageFrame | StatusFrame
  | VisitorTypingFrame | VisitorReadFrame | VisitorPageFrame | PresenceFrame | TicketChangedFrame | MailChangedFrame | AccessFrame | PongFrame | ErrorFrame
  | AssignedFrame | AgentStatusFrame | TransferredFrame | TakenOverFrame | VisitorsFrame | VisitorChangeFrame
  | TeamMessageFrame | TeamHistoryFrame | TeamAckFrame | TeamTypingFrame | TeamReadFrame | TeamRoomFrame | RatedFrame | MonitorFrame;

/** Every frame the server sends, on either endpoint. */
export type ServerFrame = VisitorServerFrame | AgentServerFrame;

// ---------------------------------------------------------------------------------------------
// Client → server (realtime::protocol::VisitorFrame / AgentFrame; unknown fields are refused)

export type Resume = { conversation: number; last_seq: number };
export type TeamResume = { room: number; last_seq: number };
export type PageInfo = { url: string; title?: string; referrer?: string };

export type VisitorClientFrame =
  /** `history`: send replays as `history` frames instead of one `message` frame each. */
  | { type: 'hello'; v: 1; token?: string; page?: PageInfo; tz?: string; lang?: string; resume?: Resume; history?: boolean; identity?: IdentityClaim }
  | ({ type: 'page' } & PageInfo)
  /** `attachment`: the token of an uploaded file; `department`: where a new chat goes;
   *  `invitation`: the invitation this answers (the chat starts with its agent); `prechat`: the
   *  department's pre-chat form answers. */
  | { type: 'message'; client_id: string; body: string; attachment?: string; department?: number; invitation?: number; prechat?: PrechatAnswers }
  | { type: 'invitation_close'; invitation: number }
  | { type: 'typing'; typing: boolean; draft?: string }
  | { type: 'read'; seq: number }
  | { type: 'end' }
  | { type: 'ping' };

export type AgentClientFrame =
  /** `team`: team rooms to resume after these seqs (the others are followed from now). */
  | { type: 'hello'; v: 1; resume?: Resume[]; team?: TeamResume[] }
  /** `force`: beyond the chat limit (supervisors and admins, after confirming). */
  | { type: 'accept'; conversation: number; force?: boolean }
  | { type: 'open'; conversation: number; last_seq: number }
  | { type: 'close'; conversation: number }
  | { type: 'message'; conversation: number; client_id: string; body: string; attachment?: string }
  | { type: 'typing'; conversation: number; typing: boolean }
  | { type: 'delivered'; conversation: number; seq: number }
  | { type: 'read'; conversation: number; seq: number }
  | { type: 'end'; conversation: number }
  | { type: 'viewing'; ticket: number; state: PresenceState }
  /** Exactly one of `agent_id` and `department_id`; `force`: past the agent's chat limit
   *  (supervisors and admins). The note is internal. */
  | { type: 'transfer'; conversation: number; agent_id?: number; department_id?: number; note?: string; force?: boolean }
  /** An internal line (supervisors and admins); acked like a message. */
  | { type: 'whisper'; conversation: number; client_id: string; body: string }
  | { type: 'take_over'; conversation: number }
  | { type: 'team_message'; room: number; client_id: string; body: string }
  | { type: 'team_typing'; room: number; typing: boolean }
  | { type: 'team_read'; room: number; seq: number }
  /** Start or stop getting the live visitors list (a `visitors` frame, then `visitor` frames). */
  | { type: 'visitors'; watch: boolean }
  | { type: 'invite'; visitor: number; body: string }
  /** Start or stop receiving `monitor` frames (supervisors and admins). */
  | { type: 'monitor'; watch: boolean }
  | { type: 'ping' };

export type ClientFrame = VisitorClientFrame | AgentClientFrame;

/** Frames that must arrive: kept until acknowledged (`ack` / `team_ack`), re-sent after reconnects. */
type Reliable<Out> = Extract<Out, { type: 'message' | 'team_message' }>;

/** Any frame: what the socket client moves around before the app narrows it. */
type AnyFrame = { type: string };

export type SocketState = 'connecting' | 'open' | 'closed';

/** Close codes after which reconnecting cannot help. */
export const FINAL_CODES = [1008, 4000, 4001];

export interface ChatSocketOptions<Out extends ClientFrame, In extends ServerFrame> {
  url: string;
  /** Built at every (re)connect, so it carries the latest resume point. */
  hello: () => Extract<Out, { type: 'hello' }>;
  onFrame: (f: In) => void;
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

/** A parsed text frame, if it is an object with a string `type`; otherwise null. The shape
 *  beyond `type` is the server's promise (the union above), not checked field by field. */
export function parseFrame<In extends ServerFrame>(data: string): In | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || typeof (v as Partial<AnyFrame>).type !== 'string') return null;
  return v as In;
}

export class ChatSocket<Out extends ClientFrame, In extends ServerFrame> {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  /** Reconnect timer (backoff), not a data poll. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Heartbeat timer: a `ping` every 25 s keeps the socket alive (docs/protocol.md). */
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** client_id → frame, in send order; cleared by ack. */
  readonly pending = new Map<string, Reliable<Out>>();
  state: SocketState = 'closed';

  constructor(private opts: ChatSocketOptions<Out, In>) {}

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
  send(frame: Out): boolean {
    return this.raw(frame);
  }

  /** A message that must arrive: kept until acknowledged, re-sent after reconnects. */
  sendMessage(frame: Reliable<Out>): void {
    this.pending.set(frame.client_id, frame);
    this.raw(frame);
  }

  private raw(frame: ClientFrame): boolean {
    if (this.ws && this.state === 'open') {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
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
      const f = parseFrame<In>(String(ev.data));
      if (!f) return;
      const g: ServerFrame = f;
      if (g.type === 'ack' || g.type === 'team_ack') this.pending.delete(g.client_id);
      // A message refused for good (not a passing rate limit) is not retried.
      if (g.type === 'error' && g.ref && g.code !== 'rate_limited' && g.code !== 'unavailable') this.pending.delete(g.ref);
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
    this.heartbeat = setInterval(() => this.raw({ type: 'ping' }), this.opts.heartbeatMs ?? 25_000);
  }

  private stopHeartbeat() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

/** Calls `run(value)` at most once per `ms`: the first value at once, the ones after it merged
 *  (`merge`) into one trailing call. A burst of N frames — a replay's receipts, 2,000 messages
 *  arriving — costs two sends or renders instead of N, and a lone one is not delayed. */
export function coalesce<T>(ms: number, run: (v: T) => void, merge: (older: T, newer: T) => T): (v: T) => void {
  let pending: { v: T } | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const tick = () => {
    timer = null;
    if (!pending) return;
    const { v } = pending;
    pending = null;
    run(v);
    timer = setTimeout(tick, ms);
  };
  return (v: T) => {
    if (timer !== null) {
      pending = { v: pending ? merge(pending.v, v) : v };
      return;
    }
    run(v);
    timer = setTimeout(tick, ms);
  };
}

/** Messages of one conversation kept in seq order without duplicates. */
export function mergeBySeq<T extends { seq: number }>(list: T[], m: T): T[] {
  return mergeAll(list, [m]);
}

/** Merge `add` (in seq order, as a `history` frame brings it) into `list` (in seq order) in one
 *  pass: no duplicates, O(list + add) — never a sort or a copy per message. */
export function mergeAll<T extends { seq: number }>(list: T[], add: T[]): T[] {
  if (!add.length) return list;
  if (!list.length || list[list.length - 1].seq < add[0].seq) return list.concat(add);
  const out: T[] = [];
  let i = 0;
  for (const m of add) {
    while (i < list.length && list[i].seq < m.seq) out.push(list[i++]);
    if (list[i]?.seq !== m.seq) out.push(m);
  }
  return out.concat(list.slice(i));
}
