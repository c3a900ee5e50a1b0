// What the explorer knows about the chain: the live state (models, devices, claims, disputes and
// the `DisputesApi` view of each running game) read at every new best block, and a history
// built from the events of the blocks seen, for what the state no longer holds (a settled
// dispute is removed, a decided claim is pruned).
//
// The chain's types come from its metadata at run time (no generated augmentation), so decoded
// values are reached by field name through `Dyn`; every value leaves this module as plain data.

import type { ApiPromise } from '@polkadot/api';

/** A decoded SCALE value of one of the chain's types (fields by their camelCase names). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Dyn = any;

export interface Model {
  id: string;
  name: string;
  version: number;
  owner: string;
  status: string;
  fileHash: string;
  byteSize: number;
  programRoot: string;
  nodeCount: number;
  programWork: bigint;
  tolerance: string;
  inputs: string[];
  outputs: string[];
  deposit: bigint;
  registeredAt: number;
}

export interface Device {
  /** Hex of the public key (the route id); `keyType` says which scheme. */
  id: string;
  keyType: string;
  operator: string;
  stake: bigint;
  status: string;
  hardware: string;
  description: string;
  claimsFinalized: number;
  claimsLost: number;
  disputesWon: number;
  assurance: string;
  registeredAt: number;
}

export type Verdict = 'NotSampled' | 'Agrees' | 'CanonicalAgrees' | 'Wrong' | 'Failed';

export interface Claim {
  id: number;
  device: string;
  operator: string;
  model: string;
  bond: bigint;
  submittedAt?: number;
  challengeEnds: number;
  /** Pending, Disputed, Final, Invalid; `pruned` once the state no longer holds it. */
  status: string;
  pruned: boolean;
  /** The connected node's checker verdict, when its offchain storage can be read. */
  verdict?: Verdict;
}

export interface Children {
  left: string;
  right: string;
}

/** One level of the bisection: the node both parties disagree on and the children revealed. */
export interface Round {
  round: number;
  depth: number;
  index: number;
  claimant?: Children;
  challenger?: Children;
  /** Which child the traces first differ in, once both have moved. */
  differs?: 'left' | 'right';
}

export interface Ending {
  winner: string;
  reason: string;
  leaf?: number;
  block: number;
  toClaimant: bigint;
  burned: bigint;
  challengerBondReturned: bigint;
}

export interface Dispute {
  id: number;
  claim: number;
  model?: string;
  challenger: string;
  claimant: string;
  bond: bigint;
  openedAt: number;
  /** Trace leaves: the model's inputs, then one per node, padded to a power of two. */
  inputCount?: number;
  nodeCount?: number;
  challengerRoot: string;
  claimantRoot?: string;
  rounds: Round[];
  /** AwaitingResponse, Bisection, AwaitingOneStep, Resolved (live) or Settled (history). */
  phase: string;
  oneStepLeaf?: number;
  /** The operator the runtime executed in the one-step (from the `one_step` extrinsic). */
  operator?: string;
  live?: {
    round?: number;
    depth?: number;
    index?: number;
    claimantOwes: boolean;
    challengerOwes: boolean;
    claimantRemaining: number;
    challengerRemaining: number;
    deadline?: number;
  };
  ending?: Ending;
}

export interface Snapshot {
  chain: string;
  endpoint: string;
  best: number;
  finalized: number;
  validators: string[];
  token: string;
  decimals: number;
  models: Model[];
  devices: Device[];
  claims: Claim[];
  disputes: Dispute[];
  /** Blocks whose events are in the history. */
  historyFrom: number;
  /** Whether the node lets this page read its checker's verdicts (unsafe RPC). */
  verdictsReadable: boolean;
}

const hex = (c: Dyn): string => c.toHex();
const num = (c: Dyn): number => c.toNumber();
const big = (c: Dyn): bigint => c.toBigInt();
const utf8 = (c: Dyn): string => {
  try {
    return c.toUtf8();
  } catch {
    return c.toHex();
  }
};

/** A binary32 bit pattern (tolerances are stored as `f32::to_bits`). */
function f32(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits);
  return view.getFloat32(0);
}

function tolerance(t: Dyn): string {
  if (t.isExact) return 'exact';
  const { abs, rel } = t.asRelative;
  return `|Δ| ≤ ${f32(num(abs)).toPrecision(2)} + ${f32(num(rel)).toPrecision(2)}·|y|`;
}

function tensorSpec(s: Dyn): string {
  const shape = s.shape.map((d: Dyn) => num(d)).join('×');
  return `${utf8(s.name)}: ${s.dtype.type}[${shape}]`;
}

function decodeModel(id: string, r: Dyn): Model {
  const p = r.params;
  return {
    id,
    name: utf8(p.name),
    version: num(p.version),
    owner: r.owner.toString(),
    status: r.status.type,
    fileHash: hex(p.fileHash),
    byteSize: num(p.byteSize),
    programRoot: hex(p.programRoot),
    nodeCount: num(p.nodeCount),
    programWork: big(p.programWork),
    tolerance: tolerance(p.tolerance),
    inputs: p.inputs.map(tensorSpec),
    outputs: p.outputs.map(tensorSpec),
    deposit: big(r.deposit),
    registeredAt: num(r.registeredAt),
  };
}

/** The hex of a `DeviceKey`'s public key (the explorer's device id). */
const deviceId = (key: Dyn): string => hex(key.value);

/** What the chain verified about where a device's key lives. */
function assurance(proof: Dyn): string {
  if (proof.isAndroidKeyAttestation) {
    const a = proof.asAndroidKeyAttestation;
    const level = a.securityLevel.type === 'TrustedEnvironment' ? 'TEE' : a.securityLevel.type;
    const boot = a.boot.isSome ? `, boot ${a.boot.unwrap()[0].type.toLowerCase()}` : '';
    return `Android Key Attestation (${level}${boot})`;
  }
  if (proof.isAppleAppAttest) {
    return `Apple App Attest (${proof.asAppleAppAttest.environment.type.toLowerCase()})`;
  }
  return 'software key (signature only)';
}

function decodeDevice(r: Dyn): Device {
  return {
    id: deviceId(r.key),
    keyType: r.key.type,
    operator: r.operator.toString(),
    stake: big(r.stake),
    status: r.status.isSuspended ? `Suspended (${r.status.asSuspended.type})` : r.status.type,
    hardware: r.metadata.hardware.type,
    description: utf8(r.metadata.description),
    claimsFinalized: num(r.reputation.claimsFinalized),
    claimsLost: num(r.reputation.claimsLost),
    disputesWon: num(r.reputation.disputesWon),
    assurance: assurance(r.keyProof),
    registeredAt: num(r.registeredAt),
  };
}

function decodeClaim(id: number, r: Dyn): Claim {
  return {
    id,
    device: deviceId(r.device),
    operator: r.operator.toString(),
    model: hex(r.model),
    bond: big(r.bond),
    submittedAt: num(r.submittedAt),
    challengeEnds: num(r.challengeEnds),
    status: r.status.type,
    pruned: false,
  };
}

function children(c: Dyn): Children | undefined {
  return c.isSome ? { left: hex(c.unwrap().left), right: hex(c.unwrap().right) } : undefined;
}

/** Splits a resolution into winner, reason and the leaf it names. */
function resolution(r: Dyn): Pick<Ending, 'winner' | 'reason' | 'leaf'> {
  const reason = r.reason;
  return {
    winner: r.winner.type,
    reason: reason.type,
    leaf: reason.isTimeout ? undefined : num(reason.value.leaf),
  };
}

/** The events of one dispute, in order, from the blocks the explorer has seen. */
interface DisputeHistory {
  opened?: {
    claim: number;
    challenger: string;
    claimant: string;
    bond: bigint;
    challengerRoot: string;
    block: number;
  };
  claimantRoot?: string;
  moves: { round: number; party: string; children?: Children }[];
  oneStepLeaf?: number;
  operator?: string;
  ending?: Ending;
}

interface ClaimHistory {
  claim: Claim;
}

/**
 * Follows the chain: `refresh()` at every new best block scans the blocks not seen yet (down to
 * `historyBlocks` below the head on the first call) and reads the state.
 */
export class Chain {
  private scanned = -1;
  private historyFrom = 0;
  private readonly disputes = new Map<number, DisputeHistory>();
  private readonly claims = new Map<number, ClaimHistory>();
  private verdicts = new Map<number, Verdict>();
  private verdictsReadable = true;

  constructor(
    private readonly api: ApiPromise,
    private readonly endpoint: string,
    private readonly historyBlocks: number,
  ) {}

  async refresh(): Promise<Snapshot> {
    const api = this.api;
    const header = await api.rpc.chain.getHeader();
    const best = header.number.toNumber();
    await this.scan(best);
    const [chain, finalizedHash, validators, models, devices, claims, disputes] = await Promise.all([
      api.rpc.system.chain(),
      api.rpc.chain.getFinalizedHead(),
      // The block authors (Aura); GRANDPA's voters are the same set (docs/running-a-network.md).
      api.query.aura.authorities(),
      api.query.models.models.entries(),
      api.query.devices.devices.entries(),
      api.query.attestations.claims.entries(),
      api.query.disputes.disputes.entries(),
    ]);
    const finalized = (await api.rpc.chain.getHeader(finalizedHash)).number.toNumber();

    const modelList = models.map(([key, value]) => decodeModel(hex(key.args[0]), (value as Dyn).unwrap()));
    const deviceList = devices.map(([, value]) => decodeDevice((value as Dyn).unwrap()));

    const live = new Map<number, Claim>();
    for (const [key, value] of claims) {
      const id = num(key.args[0]);
      live.set(id, decodeClaim(id, (value as Dyn).unwrap()));
    }
    const claimList: Claim[] = [...live.values()];
    for (const [id, { claim }] of this.claims) {
      if (!live.has(id)) claimList.push({ ...claim, pruned: true });
    }
    claimList.sort((a, b) => b.id - a.id);
    await this.readVerdicts(claimList);
    for (const claim of claimList) claim.verdict = this.verdicts.get(claim.id);

    const byId = new Map(modelList.map((m) => [m.id, m]));
    const claimModel = new Map(claimList.map((c) => [c.id, c.model]));
    const disputeList: Dispute[] = [];
    const seen = new Set<number>();
    for (const [key, value] of disputes) {
      const id = num(key.args[0]);
      seen.add(id);
      const record = (value as Dyn).unwrap();
      const view = (await api.call.disputesApi.dispute(id)) as Dyn;
      disputeList.push(this.liveDispute(id, record, view.isSome ? view.unwrap() : undefined, byId));
    }
    for (const [id, history] of this.disputes) {
      if (seen.has(id) || !history.opened) continue;
      const model = claimModel.get(history.opened.claim);
      disputeList.push(this.settledDispute(id, history, model ? byId.get(model) : undefined));
    }
    disputeList.sort((a, b) => b.id - a.id);

    return {
      chain: chain.toString(),
      endpoint: this.endpoint,
      best,
      finalized,
      validators: (validators as Dyn).map((v: Dyn) => api.createType('AccountId32', v.toU8a()).toString()),
      token: api.registry.chainTokens[0] ?? 'UNIT',
      decimals: api.registry.chainDecimals[0] ?? 12,
      models: modelList.sort((a, b) => a.registeredAt - b.registeredAt || a.id.localeCompare(b.id)),
      devices: deviceList.sort((a, b) => a.registeredAt - b.registeredAt),
      claims: claimList,
      disputes: disputeList,
      historyFrom: this.historyFrom,
      verdictsReadable: this.verdictsReadable,
    };
  }

  /** Reads the events of the blocks after the last one scanned, up to `best`. */
  private async scan(best: number): Promise<void> {
    const api = this.api;
    if (this.scanned < 0) {
      this.historyFrom = Math.max(0, best - this.historyBlocks);
      this.scanned = this.historyFrom - 1;
    }
    // A re-org (or a restarted dev chain) below the scanned height: rescan from the new head's
    // history window (the events of replaced blocks are dropped with the history).
    if (best < this.scanned) {
      this.disputes.clear();
      this.claims.clear();
      this.verdicts.clear();
      this.historyFrom = Math.max(0, best - this.historyBlocks);
      this.scanned = this.historyFrom - 1;
    }
    const BATCH = 32;
    for (let from = this.scanned + 1; from <= best; from += BATCH) {
      const numbers = Array.from({ length: Math.min(BATCH, best - from + 1) }, (_, i) => from + i);
      const blocks = await Promise.all(
        numbers.map(async (n) => {
          const hash = await api.rpc.chain.getBlockHash(n);
          return { n, hash, events: (await api.query.system.events.at(hash)) as Dyn };
        }),
      );
      for (const block of blocks) await this.apply(block.n, block.hash, block.events);
      this.scanned = numbers[numbers.length - 1];
    }
  }

  private dispute(id: number): DisputeHistory {
    let history = this.disputes.get(id);
    if (!history) {
      history = { moves: [] };
      this.disputes.set(id, history);
    }
    return history;
  }

  /** Folds one block's events into the history. */
  private async apply(n: number, hash: Dyn, events: Dyn): Promise<void> {
    const api = this.api;
    let block: Dyn;
    /** The call of the extrinsic that emitted `record` (read once per block, when needed). */
    const callOf = async (record: Dyn): Promise<Dyn | undefined> => {
      if (!record.phase.isApplyExtrinsic) return undefined;
      block ??= await api.rpc.chain.getBlock(hash);
      return block.block.extrinsics[num(record.phase.asApplyExtrinsic)]?.method;
    };
    for (const record of events) {
      const { event } = record;
      const d = event.data;
      if (event.section === 'attestations') {
        const claim = d.claim !== undefined ? num(d.claim) : undefined;
        if (event.method === 'ClaimSubmitted' && claim !== undefined) {
          this.claims.set(claim, {
            claim: {
              id: claim,
              device: deviceId(d.device),
              operator: d.operator.toString(),
              model: hex(d.model),
              bond: big(d.bond),
              submittedAt: n,
              challengeEnds: num(d.challengeEnds),
              status: 'Pending',
              pruned: false,
            },
          });
        } else if (claim !== undefined && this.claims.has(claim)) {
          const entry = this.claims.get(claim)!.claim;
          if (event.method === 'ClaimDisputed') entry.status = 'Disputed';
          // A defended claim is pending again once no dispute of it is open.
          if (event.method === 'ClaimDefended') entry.status = num(d.open) > 0 ? 'Disputed' : 'Pending';
          if (event.method === 'ClaimFinalized') entry.status = 'Final';
          if (event.method === 'ClaimInvalidated') entry.status = 'Invalid';
        }
      } else if (event.section === 'disputes' && d.dispute !== undefined) {
        const id = num(d.dispute);
        const history = this.dispute(id);
        switch (event.method) {
          case 'DisputeOpened':
            history.opened = {
              claim: num(d.claim),
              challenger: d.challenger.toString(),
              claimant: d.claimant.toString(),
              bond: big(d.bond),
              challengerRoot: hex(d.challengerRoot),
              block: n,
            };
            break;
          case 'Responded':
            history.claimantRoot = hex(d.claimantRoot);
            break;
          case 'Bisected': {
            const call = await callOf(record);
            const args = call && call.section === 'disputes' && call.method === 'bisect' ? call.args : undefined;
            history.moves.push({
              round: num(d.round),
              party: d.party.type,
              children: args ? { left: hex(args[2]), right: hex(args[3]) } : undefined,
            });
            break;
          }
          case 'OneStepAwaited':
            history.oneStepLeaf = num(d.leaf);
            break;
          case 'DisputeResolved': {
            const ending = d.ending;
            const call = await callOf(record);
            if (call && call.section === 'disputes' && call.method === 'oneStep') {
              history.operator = call.args[1].node.op.type;
            }
            history.ending = {
              ...(ending.isDecided ? resolution(ending.asDecided) : { winner: 'Challenger', reason: 'ClaimInvalidated' }),
              block: n,
              toClaimant: big(d.toClaimant),
              burned: big(d.burned),
              challengerBondReturned: big(d.challengerBondReturned),
            };
            break;
          }
        }
      }
    }
  }

  /** The rounds of a game from its moves: both parties' children, and where they first differ. */
  private rounds(history: DisputeHistory | undefined): Round[] {
    if (!history) return [];
    const byRound = new Map<number, Round>();
    for (const move of history.moves) {
      let round = byRound.get(move.round);
      if (!round) {
        round = { round: move.round, depth: 0, index: 0 };
        byRound.set(move.round, round);
      }
      if (move.party === 'Claimant') round.claimant = move.children;
      else round.challenger = move.children;
    }
    // Positions follow from the moves: the game starts at the root and goes down into the
    // first child whose hashes differ.
    let depth = 0;
    let index = 0;
    const rounds = [...byRound.values()].sort((a, b) => a.round - b.round);
    for (const round of rounds) {
      round.depth = depth;
      round.index = index;
      if (round.claimant && round.challenger) {
        round.differs = round.claimant.left !== round.challenger.left ? 'left' : 'right';
        depth += 1;
        index = index * 2 + (round.differs === 'right' ? 1 : 0);
      }
    }
    return rounds;
  }

  private liveDispute(id: number, record: Dyn, view: Dyn | undefined, models: Map<string, Model>): Dispute {
    const history = this.disputes.get(id);
    const game = record.game;
    const model = models.get(hex(record.model));
    const phase = game.phase;
    const dispute: Dispute = {
      id,
      claim: num(record.claim),
      model: hex(record.model),
      challenger: record.challenger.toString(),
      claimant: record.claimant.toString(),
      bond: big(record.bond),
      openedAt: num(record.openedAt),
      inputCount: record.inputLeaves.length,
      nodeCount: model?.nodeCount,
      challengerRoot: hex(game.challengerRoot),
      claimantRoot: game.claimantRoot.isSome ? hex(game.claimantRoot.unwrap()) : undefined,
      rounds: this.rounds(history),
      phase: phase.type,
      oneStepLeaf: phase.isAwaitingOneStep ? num(phase.asAwaitingOneStep.leaf) : history?.oneStepLeaf,
      operator: history?.operator,
      ending: history?.ending,
    };
    if (phase.isBisection) {
      // The state's current node (and a move of this round the history may not have).
      const b = phase.asBisection;
      const depth = num(b.position.depth);
      const index = num(b.position.index);
      let current = dispute.rounds.find((r) => r.depth === depth && !r.differs);
      if (!current) {
        current = { round: view?.round.isSome ? num(view.round.unwrap()) : dispute.rounds.length, depth, index };
        dispute.rounds.push(current);
      }
      current.index = index;
      current.claimant ??= children(b.claimantMove);
      current.challenger ??= children(b.challengerMove);
    }
    if (view) {
      dispute.live = {
        round: view.round.isSome ? num(view.round.unwrap()) : undefined,
        depth: view.position.isSome ? num(view.position.unwrap().depth) : undefined,
        index: view.position.isSome ? num(view.position.unwrap().index) : undefined,
        claimantOwes: view.claimantOwes.isTrue,
        challengerOwes: view.challengerOwes.isTrue,
        claimantRemaining: num(view.claimantRemaining),
        challengerRemaining: num(view.challengerRemaining),
        deadline: view.deadline.isSome ? num(view.deadline.unwrap()) : undefined,
      };
    }
    return dispute;
  }

  private settledDispute(id: number, history: DisputeHistory, model: Model | undefined): Dispute {
    const opened = history.opened!;
    return {
      id,
      claim: opened.claim,
      model: model?.id,
      challenger: opened.challenger,
      claimant: opened.claimant,
      bond: opened.bond,
      openedAt: opened.block,
      // The model's inputs are its trace's first leaves.
      inputCount: model?.inputs.length,
      nodeCount: model?.nodeCount,
      challengerRoot: opened.challengerRoot,
      claimantRoot: history.claimantRoot,
      rounds: this.rounds(history),
      phase: history.ending ? 'Settled' : 'Unknown',
      oneStepLeaf: history.oneStepLeaf ?? history.ending?.leaf,
      operator: history.operator,
      ending: history.ending,
    };
  }

  /**
   * The connected node's checker verdicts (its offchain storage, docs/pallets/attestations.md):
   * key `edgeproof/checker/outcome/` ++ claim id (u64 LE), value a SCALE `CheckOutcome`. A node
   * that refuses unsafe RPCs to this page (a remote one) has none to show.
   */
  private async readVerdicts(claims: Claim[]): Promise<void> {
    if (!this.verdictsReadable) return;
    const prefix = new TextEncoder().encode('edgeproof/checker/outcome/');
    const names: Verdict[] = ['NotSampled', 'Agrees', 'CanonicalAgrees', 'Wrong', 'Failed'];
    const wanted = claims.filter((c) => !this.verdicts.has(c.id) || c.status === 'Pending');
    try {
      await Promise.all(
        wanted.map(async (claim) => {
          const bytes = new Uint8Array(prefix.length + 8);
          bytes.set(prefix);
          new DataView(bytes.buffer).setBigUint64(prefix.length, BigInt(claim.id), true);
          // As hex: the RPC takes the raw key (a Uint8Array would be read as SCALE `Bytes`).
          const key = `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
          const value = (await this.api.rpc.offchain.localStorageGet('PERSISTENT', key)) as Dyn;
          if (value.isSome) {
            const verdict = names[value.unwrap()[0]];
            if (verdict) this.verdicts.set(claim.id, verdict);
          }
        }),
      );
    } catch {
      this.verdictsReadable = false;
    }
  }
}
