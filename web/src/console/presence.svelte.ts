// Who else is on a ticket page (T1), fed by `presence` frames from the live connection.
import type { PresenceState } from '../shared/protocol';
import { live } from './live.svelte';
import { ui } from './state.svelte';

/** Entries not repeated within this time are stale (pages repeat theirs every 15 s). */
export const PRESENCE_TTL_MS = 40_000;

class Presence {
  /** Ticket number → agent id → what they are doing and when we last heard it. */
  byTicket = $state<Record<number, Record<number, { name: string; state: Exclude<PresenceState, 'left'>; at: number }>>>({});

  constructor() {
    live.on('presence', (f) => {
      if (f.agent_id === ui.me?.id) return;
      const here = { ...(this.byTicket[f.ticket] ?? {}) };
      if (f.state === 'left') delete here[f.agent_id];
      else here[f.agent_id] = { name: f.name, state: f.state, at: Date.now() };
      this.byTicket[f.ticket] = here;
    });
  }

  /** Tell colleagues this agent is viewing / replying to / has left a ticket. */
  announce(ticket: number, state: PresenceState): void {
    live.send({ type: 'viewing', ticket, state });
  }

  /** Colleagues on a ticket now. */
  othersOn(ticket: number): { name: string; state: Exclude<PresenceState, 'left'> }[] {
    const now = Date.now();
    return Object.values(this.byTicket[ticket] ?? {}).filter((p) => now - p.at < PRESENCE_TTL_MS);
  }
}

export const presence = new Presence();
