// State the ticket pages share: counters (also the nav badge), saved views, the directory of
// departments and agents, and the list's filters (kept here so they survive opening a ticket
// and coming back).
//
// Live refresh: the agent socket does receive {"type":"ticket","op":"changed","number":N}
// frames, but that socket belongs to the chat store (chat/store.svelte.ts), which does not
// expose them. Until it does, the counters, the list and the open ticket are polled every
// 20 s and refetched when the window gets focus — cheap queries, and good enough for a desk
// where a ticket is worked by one agent at a time.
import { api, ApiError } from '../../shared/api';
import type { Agent } from '../state.svelte';
import { builtinFilters, type Counts, type Department, type Filters, type SavedView } from './types';

export const POLL_MS = 20_000;

class Desk {
  counts = $state<Counts | null>(null);
  views = $state<SavedView[]>([]);
  departments = $state<Department[]>([]);
  agents = $state<Agent[]>([]);
  filters = $state<Filters>(builtinFilters('mine'));
  /** 'mine', 'open', … for built-in views, `view-<id>` for saved ones, '' when filtered by hand. */
  activeView = $state('mine');
  private timer: ReturnType<typeof setInterval> | null = null;
  private onFocus = () => void this.refresh();

  start() {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    window.addEventListener('focus', this.onFocus);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    window.removeEventListener('focus', this.onFocus);
  }

  /** Counters and saved views. Failures are silent: the next poll tries again. */
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
      void this.refresh();
      return t.number;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }
}

export const desk = new Desk();
