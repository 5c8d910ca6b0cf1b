import { WidgetCore } from './core.svelte';

// What a closed widget runs: the state and the socket. The panel (panel.ts) is a lazy chunk.
const w = new WidgetCore();
let panel: Promise<void> | null = null;
w.wantPanel = () => {
  panel ??= import('./panel')
    .then((p) => p.show(document.getElementById('widget')!, w))
    .catch(() => { panel = null; }); // offline for a moment: the next open tries again
};
w.start();
