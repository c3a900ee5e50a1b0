// The pages: lists of models, devices, claims and disputes (filterable), and one page per item.
// Each view is a function of the snapshot returning HTML; every chain value is escaped.

import type { Claim, Device, Dispute, Snapshot } from './chain';
import { abbr, balance, blocks, escape } from './format';
import { gamePicture, leafKind } from './game';

const link = (route: string, text: string) => `<a href="#/${route}">${text}</a>`;
const badge = (status: string) => `<span class="badge ${escape(status.split(' ')[0].toLowerCase())}">${escape(status)}</span>`;

function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${empty}</p>`;
  const head = headers.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Keeps the rows whose text contains every word of `query` (case-insensitive). */
function matches(query: string, ...fields: (string | number | undefined)[]): boolean {
  const text = fields.join(' ').toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((w) => text.includes(w));
}

function filterBox(list: string, query: string, count: number, total: number): string {
  return `<div class="filter"><input id="filter" data-list="${list}" type="search" placeholder="filter ${list}"
    value="${escape(query)}" aria-label="filter ${list}"/> <span class="muted">${count} of ${total}</span></div>`;
}

const modelName = (s: Snapshot, id: string) => {
  const m = s.models.find((x) => x.id === id);
  return link(`model/${id}`, m ? escape(`${m.name} v${m.version}`) : abbr(id));
};

function counts(s: Snapshot, model: string) {
  return {
    claims: s.claims.filter((c) => c.model === model).length,
    disputes: s.disputes.filter((d) => d.model === model).length,
  };
}

function claimPeriod(s: Snapshot, c: Claim): string {
  if (c.status !== 'Pending' && c.status !== 'Disputed') return '—';
  const left = c.challengeEnds - s.best;
  return left > 0 ? `${blocks(left)} left` : 'ended';
}

const VERDICT: Record<string, string> = {
  NotSampled: 'not sampled',
  Agrees: 'agrees (ONNX Runtime)',
  CanonicalAgrees: 'agrees (canonical; ONNX Runtime drifted)',
  Wrong: 'wrong: disputed',
  Failed: 'could not check',
};
const verdict = (s: Snapshot, c: Claim) =>
  c.verdict ? escape(VERDICT[c.verdict]) : s.verdictsReadable ? '<span class="muted">not checked here</span>' : '—';

function disputeState(d: Dispute): string {
  if (d.ending) return `${badge(`${d.ending.winner} won`)} by ${escape(d.ending.reason)}`;
  if (!d.live) return badge(d.phase);
  const owes = [d.live.claimantOwes && 'claimant', d.live.challengerOwes && 'challenger'].filter(Boolean).join(' and ');
  return `${badge(d.phase)} ${owes ? `${owes} to move` : ''}`;
}

export function home(s: Snapshot): string {
  const active = s.models.filter((m) => m.status === 'Active').length;
  const pending = s.claims.filter((c) => c.status === 'Pending' || c.status === 'Disputed').length;
  const running = s.disputes.filter((d) => !d.ending).length;
  const card = (route: string, title: string, value: number, detail: string) =>
    `<a class="card" href="#/${route}"><span class="value">${value}</span><span>${title}</span><span class="muted">${detail}</span></a>`;
  return `<h1>${escape(s.chain)}</h1>
    <div class="cards">
      ${card('models', 'models', s.models.length, `${active} active`)}
      ${card('devices', 'devices', s.devices.length, `${s.devices.filter((d) => d.status === 'Active').length} active`)}
      ${card('claims', 'claims', s.claims.length, `${pending} in their challenge period`)}
      ${card('disputes', 'disputes', s.disputes.length, `${running} running`)}
    </div>
    <h2>Latest disputes</h2>${disputeTable(s, s.disputes.slice(0, 5))}
    <h2>Latest claims</h2>${claimTable(s, s.claims.slice(0, 8))}
    <p class="muted">History from block #${s.historyFrom} (settled disputes and pruned claims before it are not shown;
    more with <code>?history=N</code>).</p>`;
}

export function models(s: Snapshot, q: string): string {
  const list = s.models.filter((m) => matches(q, m.id, m.name, m.status, m.owner));
  const rows = list.map((m) => {
    const n = counts(s, m.id);
    return [
      link(`model/${m.id}`, escape(`${m.name} v${m.version}`)),
      badge(m.status),
      abbr(m.owner),
      `${m.nodeCount} nodes`,
      escape(m.tolerance),
      String(n.claims),
      String(n.disputes),
    ];
  });
  return `<h1>Models</h1>${filterBox('models', q, list.length, s.models.length)}
    ${table(['model', 'status', 'owner', 'program', 'tolerance', 'claims', 'disputes'], rows, 'No models match.')}`;
}

export function model(s: Snapshot, id: string): string {
  const m = s.models.find((x) => x.id === id);
  if (!m) return `<h1>Model</h1><p class="error">No model ${escape(id)} on this chain.</p>`;
  const n = counts(s, m.id);
  return `<h1>${escape(m.name)} v${m.version} ${badge(m.status)}</h1>
    <dl>
      <dt>id</dt><dd class="mono">${escape(m.id)}</dd>
      <dt>owner</dt><dd class="mono">${escape(m.owner)}</dd>
      <dt>file</dt><dd><span class="mono">${escape(m.fileHash)}</span>, ${m.byteSize.toLocaleString('en-US')} bytes</dd>
      <dt>canonical program</dt><dd>${m.nodeCount} nodes, work ${m.programWork.toLocaleString('en-US')}, root ${abbr(m.programRoot)}</dd>
      <dt>inputs</dt><dd class="mono">${m.inputs.map(escape).join('<br/>')}</dd>
      <dt>outputs</dt><dd class="mono">${m.outputs.map(escape).join('<br/>')}</dd>
      <dt>tolerance</dt><dd>${escape(m.tolerance)}</dd>
      <dt>deposit</dt><dd>${balance(m.deposit, s.decimals, s.token)}</dd>
      <dt>registered</dt><dd>block #${m.registeredAt}</dd>
    </dl>
    <h2>Claims (${n.claims})</h2>${claimTable(s, s.claims.filter((c) => c.model === m.id))}
    <h2>Disputes (${n.disputes})</h2>${disputeTable(s, s.disputes.filter((d) => d.model === m.id))}`;
}

function deviceRow(s: Snapshot, d: Device): string[] {
  return [
    link(`device/${d.id}`, abbr(d.id)),
    escape(d.keyType),
    escape(d.hardware),
    abbr(d.operator),
    badge(d.status),
    balance(d.stake, s.decimals, s.token),
    `${d.claimsFinalized} final · ${d.claimsLost} lost · ${d.disputesWon} won`,
    escape(d.assurance),
  ];
}

export function devices(s: Snapshot, q: string): string {
  const list = s.devices.filter((d) => matches(q, d.id, d.operator, d.status, d.hardware, d.description, d.assurance));
  return `<h1>Devices</h1>${filterBox('devices', q, list.length, s.devices.length)}
    ${table(['device key', 'scheme', 'hardware', 'operator', 'status', 'stake', 'reputation', 'key assurance'], list.map((d) => deviceRow(s, d)), 'No devices match.')}`;
}

export function device(s: Snapshot, id: string): string {
  const d = s.devices.find((x) => x.id === id);
  if (!d) return `<h1>Device</h1><p class="error">No device with key ${escape(id)} on this chain.</p>`;
  return `<h1>Device ${abbr(d.id)} ${badge(d.status)}</h1>
    <dl>
      <dt>key</dt><dd class="mono">${escape(d.keyType)} ${escape(d.id)}</dd>
      <dt>operator</dt><dd class="mono">${escape(d.operator)}</dd>
      <dt>hardware</dt><dd>${escape(d.hardware)}: ${escape(d.description)}</dd>
      <dt>key assurance</dt><dd>${escape(d.assurance)}</dd>
      <dt>stake</dt><dd>${balance(d.stake, s.decimals, s.token)}</dd>
      <dt>reputation</dt><dd>claims: ${d.claimsFinalized} final, ${d.claimsLost} lost; disputes won: ${d.disputesWon}</dd>
      <dt>registered</dt><dd>block #${d.registeredAt}</dd>
    </dl>
    <h2>Claims</h2>${claimTable(s, s.claims.filter((c) => c.device === d.id))}`;
}

function claimTable(s: Snapshot, list: Claim[]): string {
  const rows = list.map((c) => [
    link(`claim/${c.id}`, `#${c.id}`),
    modelName(s, c.model),
    link(`device/${c.device}`, abbr(c.device)),
    badge(c.status),
    claimPeriod(s, c),
    balance(c.bond, s.decimals, s.token),
    verdict(s, c),
  ]);
  return table(['claim', 'model', 'device', 'status', 'challenge period', 'bond', 'checker'], rows, 'No claims.');
}

export function claims(s: Snapshot, q: string): string {
  const list = s.claims.filter((c) => matches(q, `#${c.id}`, c.status, c.model, c.device, c.operator, c.verdict));
  return `<h1>Claims</h1>${filterBox('claims', q, list.length, s.claims.length)}${claimTable(s, list)}`;
}

export function claim(s: Snapshot, id: number): string {
  const c = s.claims.find((x) => x.id === id);
  if (!c) return `<h1>Claim #${id}</h1><p class="error">No claim #${id} in this page's history or the chain's state.</p>`;
  const disputes = s.disputes.filter((d) => d.claim === c.id);
  return `<h1>Claim #${c.id} ${badge(c.status)}</h1>
    <dl>
      <dt>model</dt><dd>${modelName(s, c.model)}</dd>
      <dt>device</dt><dd>${link(`device/${c.device}`, abbr(c.device))} of <span class="mono">${escape(c.operator)}</span></dd>
      <dt>bond</dt><dd>${balance(c.bond, s.decimals, s.token)}</dd>
      <dt>submitted</dt><dd>${c.submittedAt !== undefined ? `block #${c.submittedAt}` : '—'}</dd>
      <dt>challenge period</dt><dd>ends at block #${c.challengeEnds}: ${claimPeriod(s, c)}</dd>
      <dt>checker (this node)</dt><dd>${verdict(s, c)}</dd>
      ${c.pruned ? '<dt>state</dt><dd class="muted">pruned from the state; shown from its events</dd>' : ''}
    </dl>
    <h2>Disputes</h2>${disputeTable(s, disputes)}`;
}

function disputeTable(s: Snapshot, list: Dispute[]): string {
  const rows = list.map((d) => [
    link(`dispute/${d.id}`, `#${d.id}`),
    link(`claim/${d.claim}`, `#${d.claim}`),
    d.model ? modelName(s, d.model) : '—',
    String(d.rounds.filter((r) => r.differs).length),
    disputeState(d),
    balance(d.bond, s.decimals, s.token),
  ]);
  return table(['dispute', 'claim', 'model', 'rounds', 'state', 'challenger bond'], rows, 'No disputes.');
}

export function disputes(s: Snapshot, q: string): string {
  const list = s.disputes.filter((d) => matches(q, `#${d.id}`, `#${d.claim}`, d.phase, d.ending?.winner, d.challenger, d.claimant));
  return `<h1>Disputes</h1>${filterBox('disputes', q, list.length, s.disputes.length)}${disputeTable(s, list)}`;
}

function clocks(s: Snapshot, d: Dispute): string {
  if (!d.live) return '';
  const clock = (party: string, owes: boolean, remaining: number) =>
    `<div class="clock ${owes ? 'owes' : ''}"><span>${party}</span><strong>${blocks(remaining)}</strong>
     <span class="muted">${owes ? 'to move' : 'waiting'}</span></div>`;
  const deadline = d.live.deadline !== undefined ? `next deadline: block #${d.live.deadline} (now #${s.best})` : '';
  return `<div class="clocks">${clock('claimant', d.live.claimantOwes, d.live.claimantRemaining)}
    ${clock('challenger', d.live.challengerOwes, d.live.challengerRemaining)}</div><p class="muted">${deadline}</p>`;
}

function roundsTable(d: Dispute): string {
  const pair = (c?: { left: string; right: string }) => (c ? `${abbr(c.left)} ${abbr(c.right)}` : '<span class="muted">not yet</span>');
  const rows = d.rounds.map((r) => {
    const width = (() => {
      const n = (d.inputCount ?? 0) + (d.nodeCount ?? 0);
      let leaves = 1;
      while (leaves < n) leaves *= 2;
      return leaves / 2 ** r.depth;
    })();
    return [
      String(r.round),
      `depth ${r.depth}, leaves ${r.index * width}–${(r.index + 1) * width - 1}`,
      pair(r.claimant),
      pair(r.challenger),
      r.differs ? `${r.differs} child` : '—',
    ];
  });
  return table(['round', 'disputed node', 'claimant children', 'challenger children', 'first differing'], rows, 'No bisection rounds yet.');
}

export function dispute(s: Snapshot, id: number): string {
  const d = s.disputes.find((x) => x.id === id);
  if (!d) return `<h1>Dispute #${id}</h1><p class="error">No dispute #${id} in this page's history or the chain's state.</p>`;
  const e = d.ending;
  const leaf = d.oneStepLeaf;
  const ending = e
    ? `<div class="ending"><strong>${escape(e.winner)} won</strong> by ${escape(e.reason)}${
        e.leaf !== undefined ? ` at leaf ${e.leaf} (${escape(leafKind(d, e.leaf))})` : ''
      } in block #${e.block}.
      ${d.operator ? `The runtime executed one <strong class="op">${escape(d.operator)}</strong> operator.` : ''}
      Challenger bond returned ${balance(e.challengerBondReturned, s.decimals, s.token)}, to the claimant
      ${balance(e.toClaimant, s.decimals, s.token)}, burned ${balance(e.burned, s.decimals, s.token)}.</div>`
    : '';
  return `<h1>Dispute #${d.id} ${d.ending ? '' : badge(d.phase)}</h1>
    ${ending}
    <dl>
      <dt>claim</dt><dd>${link(`claim/${d.claim}`, `#${d.claim}`)}${d.model ? ` on ${modelName(s, d.model)}` : ''}</dd>
      <dt>challenger</dt><dd class="mono">${escape(d.challenger)}</dd>
      <dt>claimant</dt><dd class="mono">${escape(d.claimant)}</dd>
      <dt>challenger bond</dt><dd>${balance(d.bond, s.decimals, s.token)}</dd>
      <dt>opened</dt><dd>block #${d.openedAt}</dd>
      <dt>trace roots</dt><dd>challenger ${abbr(d.challengerRoot)}, claimant ${d.claimantRoot ? abbr(d.claimantRoot) : '<span class="muted">not responded</span>'}</dd>
      ${leaf !== undefined ? `<dt>one-step</dt><dd>leaf ${leaf}: ${escape(leafKind(d, leaf))}${d.operator ? ` (${escape(d.operator)})` : ''}</dd>` : ''}
    </dl>
    ${clocks(s, d)}
    <h2>The bisection</h2>
    ${gamePicture(d)}
    ${roundsTable(d)}`;
}
