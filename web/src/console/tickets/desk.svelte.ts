// State the ticket pages share: counters (also the nav badge), saved views, the directory of
// departments and agents, and the list's filters (kept here so they survive opening a ticket
// and coming back).
//
// Live: the console's one socket (../live.svelte.ts) pushes {"type":"ticket","op":"changed",
// "number":N} whenever a ticket changes (reply, note, status, assignment, a new ticket…). The
// desk then refetches the counters and bumps `listVersion` (the list and the departments
// overview reload) and `ticketVersion[N]` (an open ticket page reloads) — debounced, so a burst
// of changes costs one round of requests. Nothing polls. After a reconnect (a new `welcome`)
// everything refetches once, since changes may have happened while the socket was down.
import { api, ApiError } from '../../shared/api';
import type { Agent } from '../state.svelte';
import { live } from '../live.svelte';
import { builtinFilters, type Counts, type Department, type Filters, type SavedView } from './types';

/** How long to wait for more changes before refetching. */
export const DEBOUNCE_MS = 250;

class Desk {
  counts = $state<Counts | null>(null);
  views = $state<SavedView[]>([]);
  departments = $state<Department[]>([]);
  agents = $state<Agent[]>([]);
  filters = $state<Filters>(builtinFilters('mine'));
  /** 'mine', 'open', … for built-in views, `view-<id>` for saved ones, '' when filtered by hand. */
  activeView = $state('mine');
  /** Bumped after tickets changed: lists and the overview reload when it moves. */
  listVersion = $state(0);
  /** Bumped per ticket number when that ticket changed: its page reloads. */
  ticketVersion = $state<Record<number, number>>({});
  private started = false;
  private welcomes = 0;
  private changed = new Set<number>();
  /** Debounce timer for pushed changes (one-shot, not a poll). */
  private debounce: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    live.on('ticket', (f) => this.onChanged([f.number]));
    live.on('welcome', () => {
      // The first welcome follows start(), which already fetched; later ones are reconnects.
      if (this.welcomes++ > 0) this.onChanged([]);
    });
  }

  start() {
    if (this.started) return;
    this.started = true;
    void this.refresh();
  }

  stop() {
    this.started = false;
    this.welcomes = 0;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.changed.clear();
  }

  /** Tickets changed (none named: anything may have): refetch once the burst is over. */
  private onChanged(numbers: number[]) {
    if (!this.started) return;
    for (const n of numbers) this.changed.add(n);
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      const changed = [...this.changed];
      this.changed.clear();
      for (const n of changed) this.ticketVersion[n] = (this.ticketVersion[n] ?? 0) + 1;
      this.listVersion++;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  /** Counters and saved views. Failures are silent: the next change or reconnect tries again. */
  async refresh() {
    try {
      const [counts, views] = await Promise.all([api.get<Counts>('/api/v1/tickets/counts'), api.get<{ items: SavedView[] }>('/api/v1/views')]);
      this.counts = counts;
      this.views = views.items;
    } catch {
      // offline or signed out; the shell handles the latter
    }
  }

  /** Departments and agents for selects; loaded once per visit of the ticket pages. */
  async loadDirectory() {
    const [d, a] = await Promise.all([api.get<{ items: Department[] }>('/api/v1/departments'), api.get<{ items: Agent[] }>('/api/v1/agents')]);
    this.departments = d.items;
    this.agents = a.items.filter((x) => !x.disabled);
  }

  /** POST /api/v1/tickets/next: the number of the ticket now mine, or null when none waits. */
  async next(): Promise<number | null> {
    try {
      const t = await api.post<{ number: number }>('/api/v1/tickets/next');
      return t.number; // the server pushes the change; counters follow
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }
}

export const desk = new Desk();
