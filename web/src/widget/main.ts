import { mount } from 'svelte';
import Widget from './Widget.svelte';
import './widget.css';

mount(Widget, { target: document.getElementById('widget')! });
