// Synthetic requests and decisions: what impact analysis runs on until the access log exists, and what the
// benchmark and property tests feed the engine. Deterministic for a given seed.
import { residentIdCheckCharacter, usccCheckCharacter, USCC_ALPHABET } from '../core/identifiers/index.js';
import type { DecisionRequest } from './decision.js';
import type { RecordedDecision } from './decision.js';
import type { CompiledPolicy } from './policy.js';

/** The demo city's departments as requesters (the same codes as demo). */
export const DEMO_REQUESTERS: readonly { readonly uscc: string; readonly name: string }[] = [
  { uscc: '11210100001000010R', name: '沈阳市公安局' },
  { uscc: '11210100001000029N', name: '沈阳市市场监督管理局' },
  { uscc: '11210100001000037H', name: '沈阳市人力资源和社会保障局' },
  { uscc: '11210100001000045C', name: '沈阳市民政局' },
  { uscc: '112101000010000537', name: '沈阳市营商环境建设局' },
  { uscc: '112101000010000612', name: '沈阳市自然资源局' },
  { uscc: '112101000010000700', name: '沈阳市卫生健康委员会' },
];

/** Demo service items (事项), in the style of demo; the codes are made up. */
export const DEMO_SERVICE_ITEMS: readonly string[] = [
  'QYKB-210100-0001', // 企业开办
  'GTGSH-210100-0002', // 个体工商户登记
  'JYCY-210100-0003', // 就业创业补贴
  'HJQY-210100-0004', // 户籍迁移
  'BDCDJ-210100-0005', // 不动产登记
  'YLBX-210100-0101', // 职工养老保险待遇核定
  'SHJZ-210100-0201', // 最低生活保障审核
  'MZSW-210100-0101', // 少数民族考生加分审核
];

/** mulberry32: small, fast, good enough for test data. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

/** A valid GB 11643 resident ID number for someone born on the given date (area code 210102, 沈阳市和平区). */
export function residentId(year: number, month: number, day: number, sequence: number): string {
  const first17 = `210102${String(year).padStart(4, '0')}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(sequence % 1000).padStart(3, '0')}`;
  return first17 + residentIdCheckCharacter(first17)!;
}

/** A valid GB 32100 code of an enterprise (registration authority 9, type 1) in the demo city. */
export function enterpriseUscc(random: () => number): string {
  let body = '91210100';
  for (let i = 0; i < 9; i++) body += USCC_ALPHABET[Math.floor(random() * (i === 8 ? 10 : 31))];
  return body + usccCheckCharacter(body)!;
}

export interface SyntheticOptions {
  readonly count: number;
  readonly seed?: number;
  readonly requesters?: readonly string[];
  readonly serviceItems?: readonly string[];
  /** Decision times are spread uniformly over [from, to]. */
  readonly from?: Date;
  readonly to?: Date;
  /** Share of requests that ask for an item the catalogue does not have (default 0.01). */
  readonly unknownItemRate?: number;
  /** At most this many items per request (default 8). */
  readonly maxItems?: number;
}

/** Requests over the resources of `policy`'s catalogue, from the given requesters, about random people and firms. */
export function syntheticRequests(policy: CompiledPolicy, options: SyntheticOptions): DecisionRequest[] {
  const random = seededRandom(options.seed ?? 1);
  const requesters = options.requesters ?? DEMO_REQUESTERS.map((d) => d.uscc);
  const serviceItems = options.serviceItems ?? DEMO_SERVICE_ITEMS;
  const from = (options.from ?? new Date('2025-06-01T00:00:00+08:00')).getTime();
  const to = (options.to ?? new Date('2025-12-31T23:59:59+08:00')).getTime();
  const unknownRate = options.unknownItemRate ?? 0.01;
  const maxItems = options.maxItems ?? 8;
  const resources = [...policy.resourceCodes()].map((code) => {
    const r = policy.resource(code)!;
    return { code, kind: r.subjectKind, items: [...r.items.keys()] };
  });
  const out: DecisionRequest[] = [];
  for (let i = 0; i < options.count; i++) {
    const res = pick(random, resources);
    const want = 1 + Math.floor(random() * Math.min(maxItems, res.items.length));
    const items = new Set<string>();
    while (items.size < want) items.add(pick(random, res.items));
    if (random() < unknownRate) items.add('noSuchItem');
    const at = new Date(from + Math.floor(random() * (to - from)));
    // Born 1 to 91 years before the decision year, so minors, under-14s and seniors all occur.
    const birthYear = at.getUTCFullYear() - 1 - Math.floor(random() * 91);
    const subject =
      res.kind !== 'organisation'
        ? { kind: 'person' as const, id: residentId(birthYear, 1 + Math.floor(random() * 12), 1 + Math.floor(random() * 28), Math.floor(random() * 1000)) }
        : { kind: 'organisation' as const, id: enterpriseUscc(random) };
    out.push({
      requester: pick(random, requesters),
      resource: res.code,
      items: [...items],
      subject,
      purpose: { serviceItem: pick(random, serviceItems), caseNumber: `2101${String(100000000 + i)}` },
      at,
    });
  }
  return out;
}

/** Synthetic recorded decisions: synthetic requests decided by `policy` (as if read from the access log). */
export function syntheticDecisions(policy: CompiledPolicy, options: SyntheticOptions): RecordedDecision[] {
  return syntheticRequests(policy, options).map((request) => ({ request, decision: policy.decide(request) }));
}
