// A liar that plays both levels of the dispute game through @polkadot/api: it agrees with the
// canonical trace (from `edgeproof-device trace`) before one node, invents everything from that
// node on, and answers every move with hashes of its invented trees — the trace, the node's
// output chunks, and a tile's segment states — so the game descends through the trace to that
// node, inside it to one sub-step, which the honest party's engine runs (docs/protocol.md,
// "The second level").

import { bnToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

import { CHUNK_BYTES, headerLeaf, leafHash, merkleTree } from './claims.mjs';
import { sendAndWaitInBlock } from './node.mjs';

/** The `DType` indices (docs/claim-format.md) of the dtype names `edgeproof-device trace` prints. */
const DTYPES = { F32: 0, I64: 1, I32: 2, U8: 3, I8: 4, Bool: 5 };

/**
 * The liar's trace: the canonical `leaves` (of `edgeproof-device trace --json`) before node leaf
 * `from`, invented ones after it, `output` (a tensor) as the last leaf, and at `from` the leaf
 * of an invented output of that node's own header, whose chunks it can reveal. `fill` tells
 * two liars apart.
 */
export function liarTrace(leaves, from, output, fill = 1) {
  const invented = (tag, i) =>
    blake2AsU8a(u8aConcat(new Uint8Array([fill, tag]), bnToU8a(i, { bitLength: 32 })), 256);
  const node = leaves[from];
  const header = { dtype: node.dtype, shape: node.shape, dataLen: node.dataLen };
  const chunks = merkleTree(
    Array.from({ length: Math.ceil(node.dataLen / CHUNK_BYTES) }, (_, i) => invented(1, i)),
  );
  const last = leaves.length - 1;
  const hashes = leaves.map((l, k) => {
    if (k < from) return hexToU8a(l.hash);
    if (k === from) return headerLeaf({ ...header, dtype: DTYPES[header.dtype] }, chunks.root);
    if (k === last) return leafHash(output);
    return invented(0, k);
  });
  const trace = merkleTree(hashes);
  return {
    root: u8aToHex(trace.root),
    trace,
    header,
    chunks,
    witness: {
      tensor: { dtype: output.dtype, shape: output.shape, data: u8aToHex(output.data) },
      proof: trace.proof(last),
    },
    /** The tree of the states of `tile` cut into `segments`: invented, the last its chunk. */
    states: (tile, segments) =>
      merkleTree(Array.from({ length: segments }, (_, s) => (s === segments - 1 ? chunks.leaf(tile) : invented(2, s)))),
  };
}

/** The first node leaf whose work is over `maxNodeWork`: one the second level settles. */
export function heavyLeaf(leaves, maxNodeWork) {
  const k = leaves.findIndex((l) => l.kind === 'node' && l.work > maxNodeWork);
  if (k < 0) throw new Error(`no node over ${maxNodeWork} work`);
  return k;
}

/**
 * Plays `side` ('claimant' or 'challenger') of `dispute` with `liar` (a `liarTrace`): every
 * bisection round of the trace, of the node's chunks and of a tile's states, and both reveals,
 * until the game is over. The one-step, the cut and the sub-step are the honest party's to post.
 * `onMove(name)` sees each move once it is in a block.
 */
export async function playLiar(api, signer, dispute, liar, side, onMove = () => {}) {
  const mine = side === 'claimant' ? 'claimant' : 'challenger';
  let states = null;
  for (;;) {
    const stored = await api.query.disputes.disputes(dispute);
    if (stored.isNone) return;
    const phase = stored.unwrap().game.phase;
    let call = null;
    let name = null;
    if (phase.isBisection && phase.asBisection[`${mine}Move`].isNone) {
      const { level, position } = phase.asBisection;
      const [d, i] = [position.depth.toNumber(), position.index.toNumber()];
      const tree = level.isTrace ? liar.trace : level.isTiles ? liar.chunks : states;
      const [left, right] = tree.children(d, i);
      call = api.tx.disputes.bisect(dispute, d, left, right);
      name = `bisect ${level.type} ${d}`;
    } else if (phase.isRevealing && phase.asRevealing[mine].isNone) {
      const { what } = phase.asRevealing;
      if (what.isDataRoots) {
        call = api.tx.disputes.reveal(dispute, {
          DataRoot: { header: liar.header, dataRoot: u8aToHex(liar.chunks.root) },
        });
        name = 'reveal data root';
      } else {
        const { inside, tile } = what.asStateRoots;
        states = liar.states(tile.toNumber(), inside.geometry.segments.toNumber());
        call = api.tx.disputes.reveal(dispute, {
          StateRoot: { root: u8aToHex(states.root), last: states.proof(inside.geometry.segments.toNumber() - 1) },
        });
        name = 'reveal state root';
      }
    } else if (phase.isResolved) {
      return;
    }
    if (call) {
      await sendAndWaitInBlock(call, signer);
      onMove(name);
    } else {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
