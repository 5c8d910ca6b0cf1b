// The live monitor (SPEC M1) as the console sees it: supervisors and admins watch it over the
// one live connection (`monitor` frames, pushed when the picture changes); when a department
// turns red — its longest wait past the norm with no free slot — they hear a chime and, when
// permitted and the tab is hidden, get a desktop notification. No polling.
import { untrack } from 'svelte';
import { live } from './live.svelte';
import { t, ui } from './state.svelte';
import { notify } from './chat/store.svelte';
import { chime } from './notify/notifier.svelte';
import type { Monitor } from '../shared/protocol';

class MonitorStore {
  current = $state<Monitor | null>(null);
  private offs: (() => void)[] = [];

  private watching(): boolean {
    return ui.me?.role === 'supervisor' || ui.me?.role === 'admin';
  }

  /** Called from the shell's effect: reads nothing reactive into it (that would restart the socket). */
  start(): void {
    untrack(() => this.begin());
  }

  private begin(): void {
    if (this.offs.length) return;
    this.offs.push(
      live.on('monitor', (f) => {
        const { type: _type, ...m } = f;
        const was = this.current?.alert ?? false;
        this.current = m;
        if (m.alert && !was) {
          chime();
          const red = m.departments.filter((d) => d.alert).map((d) => d.name ?? t('monitor.no_department'));
          notify(t('monitor.alert_title'), t('monitor.alert_body', { departments: red.join(', ') }));
        }
      }),
      // Every (re)connect starts watching again: the server forgets watchers with the socket.
      live.onState((s) => {
        if (s === 'open' && this.watching()) live.send({ type: 'monitor', watch: true });
      }),
    );
    if (live.connected && this.watching()) live.send({ type: 'monitor', watch: true });
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.current = null;
  }
}

export const monitor = new MonitorStore();
