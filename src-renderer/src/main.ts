import { mount } from 'svelte';
import App from './App.svelte';
import { createStudioClient } from './api';
import { installClient, startRouting } from './lib/app.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('iddpm-studio: #app element missing from index.html');

// One client for the whole app: Electron's preload bridge when present, else the web face's WebSocket.
installClient(createStudioClient());
startRouting();

export default mount(App, { target });
