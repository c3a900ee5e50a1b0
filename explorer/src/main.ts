// The explorer: connects to a node (`?rpc=ws://…`, default the dev chain), reads the chain at
// every new best block and renders the route in the hash (`#/claim/42`, `#/models?q=mlp`).

import { ApiPromise, WsProvider } from '@polkadot/api';

import { Chain, type Snapshot } from './chain';
import { escape } from './format';
import * as views from './views';

const params = new URLSearchParams(location.search);
const endpoint = params.get('rpc') ?? 'ws://127.0.0.1:9944';
const historyBlocks = Number(params.get('history') ?? 1200);

const $ = (id: string) => document.getElementById(id)!;
let snapshot: Snapshot | undefined;

function banner(text: string | undefined, kind: 'error' | 'info' = 'error') {
  const el = $('banner');
  el.hidden = text === undefined;
  el.className = `banner ${kind}`;
  el.textContent = text ?? '';
}

/** The route in the hash: the view, its argument and the list filter. */
function route(): { view: string; arg?: string; q: string } {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [view = '', arg] = path.split('/');
  return { view, arg, q: new URLSearchParams(query).get('q') ?? '' };
}

function render() {
  if (!snapshot) return;
  const s = snapshot;
  const { view, arg, q } = route();
  $('head').innerHTML = `<span title="${escape(s.endpoint)}">${escape(s.chain)}</span>
    <span>best <strong id="best">#${s.best}</strong></span>
    <span>finalized <strong id="finalized">#${s.finalized}</strong></span>
    <span title="${escape(s.validators.join('\n'))}">${s.validators.length} validator${s.validators.length === 1 ? '' : 's'}</span>`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    a.classList.toggle('active', a.dataset.nav === view || a.dataset.nav === `${view}s`);
  }
  const id = Number(arg);
  const html =
    view === 'models' ? views.models(s, q)
    : view === 'model' ? views.model(s, arg ?? '')
    : view === 'devices' ? views.devices(s, q)
    : view === 'device' ? views.device(s, arg ?? '')
    : view === 'claims' ? views.claims(s, q)
    : view === 'claim' ? views.claim(s, id)
    : view === 'disputes' ? views.disputes(s, q)
    : view === 'dispute' ? views.dispute(s, id)
    : views.home(s);
  // Re-rendering replaces the filter box: keep its focus and caret while the user types.
  const focused = document.activeElement as HTMLInputElement | null;
  const caret = focused?.id === 'filter' ? focused.selectionStart : null;
  $('view').innerHTML = html;
  const filter = document.getElementById('filter') as HTMLInputElement | null;
  if (filter) {
    filter.addEventListener('input', () => {
      const hash = `#/${filter.dataset.list}${filter.value ? `?q=${encodeURIComponent(filter.value)}` : ''}`;
      history.replaceState(null, '', hash);
      render();
    });
    if (caret !== null) {
      filter.focus();
      filter.setSelectionRange(caret, caret);
    }
  }
  document.body.dataset.best = String(s.best);
}

async function start() {
  let provider: WsProvider;
  try {
    provider = new WsProvider(endpoint, 2_000);
  } catch (e) {
    banner(`'${endpoint}' is not a WebSocket URL (${(e as Error).message}). Use ?rpc=ws://host:port.`);
    $('view').innerHTML = '';
    return;
  }
  let connectedOnce = false;
  provider.on('error', () => {
    banner(
      connectedOnce
        ? `Lost the connection to ${endpoint} at block #${snapshot?.best ?? '?'}: reconnecting…`
        : `Cannot connect to ${endpoint}: is a node running there? Retrying every 2 s.`,
    );
  });
  provider.on('disconnected', () => {
    if (connectedOnce) banner(`Lost the connection to ${endpoint} at block #${snapshot?.best ?? '?'}: reconnecting…`);
  });
  provider.on('connected', () => {
    if (connectedOnce) banner(`Reconnected to ${endpoint}: reading the chain…`, 'info');
    connectedOnce = true;
  });
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: false });
  const chain = new Chain(api, endpoint, historyBlocks);

  // One refresh at a time; heads that arrive meanwhile are folded into the next one.
  let running = false;
  let again = false;
  const refresh = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        snapshot = await chain.refresh();
        banner(undefined);
        render();
      } while (again);
    } catch (e) {
      if (api.isConnected) banner(`Reading the chain failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  await api.rpc.chain.subscribeNewHeads(() => void refresh());
  await refresh();
}

window.addEventListener('hashchange', render);
void start();
