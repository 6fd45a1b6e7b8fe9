import { describeBracket } from '@fieldproof/receipt';
import type { LinkVerdict, Verification } from '@fieldproof/receipt';
import type { CommandContext } from '../../command.js';

/** The two output formats of `fieldproof verify`: lines for a person, one JSON object for a program. */

type Values = CommandContext['values'];

export const str = (values: Values, name: string): string | undefined =>
  typeof values[name] === 'string' ? values[name] : undefined;

export const strings = (values: Values, name: string): string[] =>
  (Array.isArray(values[name]) ? values[name] : []).filter((v): v is string => typeof v === 'string');

export function line(verdict: LinkVerdict): string {
  return `${verdict.status.padEnd(9)} ${verdict.link}: ${verdict.detail}`;
}

export function receiptJson(file: string, verification: Verification) {
  return {
    file,
    ok: verification.ok,
    links: verification.links,
    failed: verification.links.filter((l) => l.status === 'failed').map((l) => l.link),
    unchecked: verification.links.filter((l) => l.status === 'unchecked').map((l) => l.link),
    ...(verification.bracket === undefined ? {} : { bracket: verification.bracket }),
  };
}

export function receiptText(file: string, verification: Verification): string {
  const report = receiptJson(file, verification);
  const verdict = verification.ok
    ? `VERIFIED — every requested check holds${report.unchecked.length > 0 ? `; unchecked: ${report.unchecked.join(', ')}` : ''}`
    : `FAILED — broken: ${report.failed.join(', ')}`;
  const time =
    verification.bracket === undefined ? '' : `time:     ${describeBracket(verification.bracket)}\n`;
  return `${verification.links.map(line).join('\n')}\n${time}verdict: ${verdict}\n`;
}

/** What a bundle line names of a receipt, of either format (it may be malformed: then `?`). */
export function receiptLabel(receipt: unknown): { id: string; leaf: string; deviceKey: string | undefined } {
  const r = receipt as {
    evidence?: { id?: unknown };
    leaf?: { leafIndex?: unknown };
    device?: { publicKey?: unknown };
    steps?: { type?: unknown; leafIndex?: unknown; publicKey?: unknown }[];
  };
  const id = typeof r.evidence?.id === 'string' ? r.evidence.id : '?';
  const steps = Array.isArray(r.steps) ? r.steps : [];
  const leafIndex = r.leaf?.leafIndex ?? steps.find((s) => s?.type === 'inclusion')?.leafIndex;
  const key = r.device?.publicKey ?? steps.find((s) => s?.type === 'checkpoint')?.publicKey;
  return {
    id,
    leaf: typeof leafIndex === 'number' ? `leaf ${leafIndex}` : '',
    deviceKey: typeof key === 'string' ? key : undefined,
  };
}

export function bundleLine(i: number, receipt: unknown, verification: Verification): string {
  const { id, leaf } = receiptLabel(receipt);
  const head = `${verification.ok ? 'ok    ' : 'FAILED'} receipts[${i}] ${id} ${leaf}`.trimEnd();
  const time =
    verification.bracket === undefined ? '' : `    time: ${describeBracket(verification.bracket)}\n`;
  if (verification.ok) return `${head}\n${time}`;
  const broken = verification.links.filter((l) => l.status === 'failed').map((l) => `    ${line(l)}`);
  return `${head}\n${broken.join('\n')}\n${time}`;
}

/** `anchor:<chainId>:<txHash>`, `canonical:<chain>:<n>`, … count by their kind in a bundle summary. */
export function kindOf(link: string): string {
  const colon = link.indexOf(':');
  return colon < 0 ? link : link.slice(0, colon);
}
