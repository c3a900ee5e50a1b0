// The picture of a dispute: the trace tree narrowing from the root to one leaf.
//
// The trace's leaves are the model's inputs, then one per node of the canonical program, padded
// to a power of two (docs/protocol.md). Each round the parties reveal the two children of the
// node they disagree on; the game goes down into the first child whose hashes differ. Row d of
// the picture is the disputed node at depth d, drawn over the leaves it covers, its halves
// coloured by whether the parties' children agree; the last row is the leaf executed on-chain.

import type { Dispute, Round } from './chain';
import { escape, short } from './format';

const WIDTH = 760;
const LABEL = 118;
const ROW = 28;
const BAR = 18;

/** Leaves of the trace tree and their kinds, when the model is known. */
export function leafLayout(d: Dispute): { inputs: number; nodes: number; leaves: number } | undefined {
  if (d.inputCount === undefined || d.nodeCount === undefined) return undefined;
  const used = d.inputCount + d.nodeCount;
  let leaves = 1;
  while (leaves < used) leaves *= 2;
  return { inputs: d.inputCount, nodes: d.nodeCount, leaves };
}

/** What leaf `leaf` of `d`'s trace holds. */
export function leafKind(d: Dispute, leaf: number): string {
  const layout = leafLayout(d);
  if (!layout) return `leaf ${leaf}`;
  if (leaf < layout.inputs) return `input ${leaf}`;
  if (leaf < layout.inputs + layout.nodes) return `node ${leaf - layout.inputs}`;
  return 'padding';
}

/** The SVG of `d`'s bisection so far (an empty string before the first round). */
export function gamePicture(d: Dispute): string {
  const layout = leafLayout(d);
  if (!layout) return '<p class="muted">The model of this dispute is not known to this page.</p>';
  const depths = Math.round(Math.log2(layout.leaves));
  const span = WIDTH - LABEL - 8;
  const x = (leaf: number) => LABEL + (leaf / layout.leaves) * span;
  const rows: string[] = [];

  // Row 0: which leaves are inputs, nodes and padding.
  const kinds: [string, number, number][] = [
    ['inputs', 0, layout.inputs],
    ['nodes', layout.inputs, layout.inputs + layout.nodes],
    ['padding', layout.inputs + layout.nodes, layout.leaves],
  ];
  rows.push(`<text class="label" x="4" y="${ROW * 0.6}">trace leaves</text>`);
  for (const [kind, from, to] of kinds) {
    if (to <= from) continue;
    const w = x(to) - x(from);
    rows.push(
      `<rect class="kind ${kind}" x="${x(from)}" y="4" width="${w}" height="${BAR}"><title>${kind}: leaves ${from}–${to - 1}</title></rect>`,
    );
    if (w > 46) rows.push(`<text class="in-bar" x="${x(from) + 4}" y="${4 + BAR * 0.72}">${kind}</text>`);
  }

  const byDepth = new Map<number, Round>(d.rounds.map((r) => [r.depth, r]));
  const current = d.live?.depth;
  let index = 0;
  for (let depth = 0; depth <= depths; depth += 1) {
    const round = byDepth.get(depth);
    if (round) index = round.index;
    const width = layout.leaves / 2 ** depth;
    const from = index * width;
    const y = ROW * (depth + 1) + 4;
    const isLeaf = depth === depths;
    const label = depth === 0 ? 'root' : isLeaf ? 'leaf' : `depth ${depth}`;
    rows.push(`<text class="label" x="4" y="${y + BAR * 0.72}">${label}</text>`);
    const reached = round !== undefined || depth === 0 || (isLeaf && d.oneStepLeaf !== undefined);
    if (!reached) {
      rows.push(`<rect class="unreached" x="${x(from)}" y="${y}" width="${x(from + width) - x(from)}" height="${BAR}"/>`);
      continue;
    }
    if (isLeaf) {
      const leaf = d.oneStepLeaf ?? from;
      const kind = leafKind(d, leaf);
      const op = d.operator ? ` (${escape(d.operator)})` : '';
      rows.push(
        `<rect class="disputed leaf" x="${x(leaf)}" y="${y}" width="${Math.max(3, x(leaf + 1) - x(leaf))}" height="${BAR}"><title>leaf ${leaf}: ${kind}</title></rect>`,
        `<text class="note" x="${Math.min(x(leaf) + 6, WIDTH - 220)}" y="${y + BAR * 0.72}">leaf ${leaf}: ${kind}${op}</text>`,
      );
      break;
    }
    const half = width / 2;
    const sides: ['left' | 'right', number][] = [
      ['left', from],
      ['right', from + half],
    ];
    for (const [side, start] of sides) {
      const known = round?.claimant && round?.challenger;
      const cls = !known ? 'pending' : round!.differs === side ? 'disputed' : 'agreed';
      const c = round?.claimant?.[side];
      const h = round?.challenger?.[side];
      const tip = `${side} child: claimant ${c ? short(c) : 'not revealed'}, challenger ${h ? short(h) : 'not revealed'}`;
      rows.push(
        `<rect class="${cls}" x="${x(start)}" y="${y}" width="${Math.max(2, x(start + half) - x(start) - 1)}" height="${BAR}"><title>${escape(tip)}</title></rect>`,
      );
    }
    if (depth === current) {
      rows.push(
        `<rect class="current" x="${x(from) - 2}" y="${y - 2}" width="${x(from + width) - x(from) + 3}" height="${BAR + 4}"/>`,
      );
    }
    if (round?.differs) index = index * 2 + (round.differs === 'right' ? 1 : 0);
  }
  const height = ROW * (depths + 2) + 8;
  return `<svg class="game" role="img" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}"
    aria-label="bisection of dispute ${d.id}">${rows.join('')}</svg>
    <p class="legend"><span class="swatch agreed"></span>children agree <span class="swatch disputed"></span>children differ
    <span class="swatch pending"></span>awaiting a move <span class="swatch current-swatch"></span>current position</p>`;
}
