// Formatting shared by the views: HTML escaping, short hashes and addresses, balances.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside HTML text and attribute values. */
export function escape(text: string | number | bigint): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** `0x1234…abcd` (hashes, keys) or `5Grw…utQY` (addresses). */
export function short(value: string): string {
  if (value.length <= 14) return value;
  const head = value.startsWith('0x') ? 6 : 4;
  return `${value.slice(0, head)}…${value.slice(-4)}`;
}

/** A short value with the whole one in its tooltip. */
export function abbr(value: string): string {
  return `<span class="mono" title="${escape(value)}">${escape(short(value))}</span>`;
}

/** `planck` in tokens with up to four decimals: `1,000.5 EDGE`. */
export function balance(planck: bigint, decimals: number, token: string): string {
  const unit = 10n ** BigInt(decimals);
  const whole = planck / unit;
  const frac = ((planck % unit) * 10_000n) / unit;
  const fraction = frac === 0n ? '' : `.${frac.toString().padStart(4, '0').replace(/0+$/, '')}`;
  return `${whole.toLocaleString('en-US')}${fraction} ${token}`;
}

/** Blocks as a duration at `blockMs` per block: `12 blocks (~1 min)`. */
export function blocks(count: number, blockMs = 6_000): string {
  const seconds = (count * blockMs) / 1000;
  const about = seconds < 90 ? `${Math.round(seconds)} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
  return `${count} block${count === 1 ? '' : 's'} (~${about})`;
}
