// The lazy half of the widget: the panel and its styles, mounted once into the page.
import { mount } from 'svelte';
import Panel from './Panel.svelte';
import type { WidgetCore } from './core.svelte';
import './widget.css';

export function show(target: HTMLElement, w: WidgetCore) {
  mount(Panel, { target, props: { w } });
}
