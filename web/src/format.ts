// Amounts, accounts, rates and times as the page shows them.

export const token = { decimals: 12, symbol: 'GATE' };

/** An amount of the smallest unit (decimal string) as whole tokens: `0.1 GATE`. */
export function amount(units: string | bigint | null | undefined, digits = 4): string {
  if (units === null || units === undefined || units === '') return '—';
  let value: bigint;
  try {
    value = BigInt(units);
  } catch {
    return String(units);
  }
  const negative = value < 0n;
  if (negative) value = -value;
  const base = 10n ** BigInt(token.decimals);
  const whole = value / base;
  let fraction = (value % base).toString().padStart(token.decimals, '0').slice(0, digits).replace(/0+$/, '');
  if (fraction === '' && value % base !== 0n && whole === 0n) {
    // Below what `digits` shows: all of it.
    fraction = (value % base).toString().padStart(token.decimals, '0').replace(/0+$/, '');
  }
  const wholeText = whole.toLocaleString('en-US');
  return `${negative ? '-' : ''}${wholeText}${fraction ? `.${fraction}` : ''} ${token.symbol}`;
}

/** Whole tokens as typed (`0.1`) to the smallest unit; `null` if it is not a number. */
export function parseAmount(text: string): bigint | null {
  const match = /^\s*(\d*)(?:\.(\d*))?\s*(?:gate)?\s*$/i.exec(text);
  if (!match || (match[1] === '' && (match[2] ?? '') === '')) return null;
  const fraction = (match[2] ?? '').slice(0, token.decimals).padEnd(token.decimals, '0');
  return BigInt(match[1] || '0') * 10n ** BigInt(token.decimals) + BigInt(fraction || '0');
}

/** The smallest unit as whole tokens without the symbol, for an input field. */
export function plainAmount(units: string | bigint): string {
  const value = BigInt(units);
  const base = 10n ** BigInt(token.decimals);
  const fraction = (value % base).toString().padStart(token.decimals, '0').replace(/0+$/, '');
  return `${value / base}${fraction ? `.${fraction}` : ''}`;
}

export function shortAccount(account: string | null | undefined): string {
  if (!account) return '—';
  return account.length > 14 ? `${account.slice(0, 6)}…${account.slice(-6)}` : account;
}

export function shortHash(hash: string | null | undefined): string {
  if (!hash) return '—';
  return hash.length > 18 ? `${hash.slice(0, 10)}…${hash.slice(-6)}` : hash;
}

export function rate(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)} %`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en-US');
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** Well-known dev accounts by address, so that //Alice reads as Alice. */
export const DEV_NAMES = new Map<string, string>();

export function accountName(account: string | null | undefined): string {
  if (!account) return '—';
  const name = DEV_NAMES.get(account);
  return name ? `${name} (${shortAccount(account)})` : shortAccount(account);
}
