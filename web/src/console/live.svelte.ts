// The console's one live connection: the agent socket (/ws/agent). It connects, says hello
// (with the resume points the chat store keeps), sends heartbeats and reconnects with backoff
// (all in shared/protocol.ts), and hands every frame to whoever subscribed to its type — a
// small typed event bus:
//
//   live.on('ticket', (f) => …)   // f: TicketChangedFrame
//
// Subscribers: chat/store.svelte.ts (queue, chats, messages), tickets/desk.svelte.ts (ticket
// changes → counters, lists, the open ticket), presence.svelte.ts (who is on a ticket page),
// teamchat/store.svelte.ts (internal chat: rooms, messages, unread counts, typing).
// Nothing else in the console opens a socket or polls.
import { ChatSocket, socketUrl, type AgentClientFrame, type AgentServerFrame, type Resume, type SocketState, type TeamResume } from '../shared/protocol';
import { navigate, ui } from './state.svelte';

export type LiveType = AgentServerFrame['type'];
export type LiveFrame<T extends LiveType> = Extract<AgentServerFrame, { type: T }>;
type Handler<T extends LiveType> = (frame: LiveFrame<T>) => void;
type StateHandler = (state: SocketState, code?: number) => void;

class Live {
  /** True while the socket is open (the chat page shows "reconnecting…" otherwise). */
  connected = $state(false);
  private socket: ChatSocket<AgentClientFrame, AgentServerFrame> | null = null;
  private handlers = new Map<LiveType, Set<(f: AgentServerFrame) => void>>();
  private stateHandlers = new Set<StateHandler>();
  private resumeFrom: () => Resume[] = () => [];
  private teamResumeFrom: () => TeamResume[] = () => [];

  /** Subscribe to one frame type; returns the unsubscribe function. */
  on<T extends LiveType>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    // The map is keyed by `type`, so only frames of type T reach this handler.
    const h = handler as (f: AgentServerFrame) => void;
    set.add(h);
    return () => set.delete(h);
  }

  /** Connection state changes (open, closed with a code). */
  onState(handler: StateHandler): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  /** Where the console left off in each followed chat; asked at every (re)connect. */
  setResume(from: () => Resume[]): void {
    this.resumeFrom = from;
  }

  /** Where the console left off in each team room (internal chat); asked at every (re)connect. */
  setTeamResume(from: () => TeamResume[]): void {
    this.teamResumeFrom = from;
  }

  start(): void {
    if (this.socket) return;
    this.socket = new ChatSocket<AgentClientFrame, AgentServerFrame>({
      url: socketUrl('/ws/agent'),
      hello: () => ({ type: 'hello', v: 1, resume: this.resumeFrom(), team: this.teamResumeFrom() }),
      onFrame: (f) => this.emit(f),
      onState: (s, code) => {
        this.connected = s === 'open';
        for (const h of this.stateHandlers) h(s, code);
        if (code === 4001) {
          // The session ended (logout elsewhere, disabled, password changed).
          ui.me = null;
          navigate('/login', true);
        }
      },
    });
    this.socket.connect();
  }

  stop(): void {
    this.socket?.close();
    this.socket = null;
  }

  /** Fire-and-forget (typing, read, presence): dropped while disconnected. */
  send(frame: AgentClientFrame): boolean {
    return this.socket?.send(frame) ?? false;
  }

  /** A chat message: kept until acknowledged and re-sent after reconnects. */
  sendMessage(frame: Extract<AgentClientFrame, { type: 'message' }>): void {
    this.socket?.sendMessage(frame);
  }

  /** A team room message (internal chat): kept until `team_ack`, re-sent after reconnects. */
  sendTeamMessage(frame: Extract<AgentClientFrame, { type: 'team_message' }>): void {
    this.socket?.sendMessage(frame);
  }

  /** Exposed for tests; the socket calls it for every frame. */
  emit(frame: AgentServerFrame): void {
    for (const h of this.handlers.get(frame.type) ?? []) {
      try {
        h(frame);
      } catch (e) {
        // One broken subscriber must not starve the others.
        console.error(e);
      }
    }
  }
}

export const live = new Live();
