// decide() of the negative-list engine (policies/) against a realistic large list: ≥ 10,000 rules over a synthetic
// catalogue of 1,000 resources × 24 items. Each call is timed with process.hrtime.bigint() for p50/p99; the rate is
// measured separately in an untimed loop. Baseline in the same run: the same catalogue and requests under the
// smallest valid list (one deny per 不予共享 resource), i.e. the cost of the engine without the rules.
import { pathToFileURL } from 'node:url';
import { usccCheckCharacter } from '../core/identifiers/index.js';
import {
  compilePolicy,
  residentId,
  seededRandom,
  StaticCatalogue,
  type CatalogueItem,
  type CatalogueResource,
  type CompiledPolicy,
  type DataItemType,
  type DecisionRequest,
} from '../policies/index.js';
import { describeMachine } from './machine.js';

const RESOURCES = 1000;
const NOT_SHARED = 50;
const UNCONDITIONAL = 250;
const REQUESTS = 10_000;
const DEPARTMENTS = 50;

/** Items of a person's resource; the first ones carry the kinds of data rules are written about. */
const PERSON_ITEMS: readonly [string, DataItemType, string[]][] = [
  ['name', 'string', ['personal']],
  ['idNumber', 'string', ['personal', 'identity-number']],
  ['birthDate', 'date', ['personal']],
  ['address', 'string', ['personal']],
  ['photo', 'binary', ['personal', 'sensitive-personal', 'biometric']],
  ['ethnicity', 'string', ['personal', 'sensitive-personal']],
  ['phone', 'string', ['personal']],
  ['income', 'decimal', ['personal', 'sensitive-personal', 'financial']],
  ['healthStatus', 'string', ['personal', 'sensitive-personal']],
  ['caseNotes', 'string', ['work-secret']],
];
const ORG_ITEMS: readonly [string, DataItemType, string[]][] = [
  ['uscc', 'string', []],
  ['orgName', 'string', []],
  ['legalRepresentative', 'string', ['personal']],
  ['legalRepresentativeIdNumber', 'string', ['personal', 'identity-number']],
  ['registeredCapital', 'decimal', []],
  ['establishedDate', 'date', []],
];
const ITEMS_PER_RESOURCE = 24;

export function departmentUscc(i: number): string {
  const first17 = `11210100${String(i).padStart(9, '0')}`;
  return first17 + usccCheckCharacter(first17)!;
}

function item(code: string, type: DataItemType, categories: string[]): CatalogueItem {
  return { code, name: code, type, sensitivity: categories.includes('sensitive-personal') ? 'restricted' : 'internal', categories };
}

export function largeCatalogue(): StaticCatalogue {
  const resources: CatalogueResource[] = [];
  for (let r = 0; r < RESOURCES; r++) {
    const notShared = r < NOT_SHARED;
    const unconditional = !notShared && r < NOT_SHARED + UNCONDITIONAL;
    const head = unconditional ? ORG_ITEMS : PERSON_ITEMS;
    const items = head.map(([c, t, cat]) => item(c, t, cat));
    for (let k = items.length; k < ITEMS_PER_RESOURCE; k++) items.push(item(`field${k}`, k % 5 === 0 ? 'date' : 'string', k % 3 === 0 ? ['personal'] : []));
    resources.push({
      code: `RES-D${String(r % DEPARTMENTS).padStart(2, '0')}-${String(r).padStart(4, '0')}`,
      name: `resource ${r}`,
      provider: departmentUscc(r % DEPARTMENTS),
      sharingClass: notShared ? 'not-shared' : unconditional ? 'unconditional' : 'conditional',
      subjectKind: unconditional ? 'organisation' : 'person',
      items,
    });
  }
  return new StaticCatalogue('bench-1', resources);
}

const BASIS = {
  pipl6: '{ title: 《中华人民共和国个人信息保护法》, article: 第六条 }',
  pipl28: '{ title: 《中华人民共和国个人信息保护法》, article: 第二十八条 }',
  pipl31: '{ title: 《中华人民共和国个人信息保护法》, article: 第三十一条 }',
  pipl34: '{ title: 《中华人民共和国个人信息保护法》, article: 第三十四条 }',
  idCard: '{ title: 《中华人民共和国居民身份证法》, article: 第六条 }',
  minors: '{ title: 《中华人民共和国未成年人保护法》, article: 第四条 }',
  secrets: '{ title: 《中华人民共和国保守国家秘密法》 }',
  sharing: '{ title: 《政务数据共享条例》 }',
};

/**
 * A list written the way departments write them: per resource, ID masks, age rules, purpose limits, requester
 * limits, approvals, time windows. Rules on one item never make each other dead, so the list compiles.
 */
export function largePolicy(catalogue: StaticCatalogue, seed = 1): { text: string; rules: number } {
  const random = seededRandom(seed);
  const lines: string[] = ['revision: "bench-2025-09-01.1"', 'rules:'];
  let n = 0;
  const rule = (effect: string, basis: string, match: string, extra = '') => {
    n++;
    lines.push(`  - id: NL-${String(n).padStart(6, '0')}`, `    effect: ${effect}`, `    legalBasis: ${basis}`, `    match: ${match}`);
    if (extra) lines.push(`    ${extra}`);
  };
  const depts = (k: number) => {
    const picked = new Set<number>();
    while (picked.size < k) picked.add(Math.floor(random() * DEPARTMENTS));
    return [...picked].map((i) => JSON.stringify(departmentUscc(i))).join(', ');
  };
  const field = (from: number) => `field${from + Math.floor(random() * (ITEMS_PER_RESOURCE - from - 1))}`;
  for (const res of catalogue.listResources()) {
    const r = res.code;
    if (res.sharingClass === 'not-shared') {
      rule('deny', `[${BASIS.secrets}, ${BASIS.sharing}]`, `{ resources: [${r}] }`);
      continue;
    }
    if (res.sharingClass === 'unconditional') {
      rule('mask', BASIS.idCard, `{ resources: [${r}], items: [legalRepresentativeIdNumber] }`, 'mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }');
      rule('mask', BASIS.pipl6, `{ resources: [${r}], items: [legalRepresentative], requesters: [${depts(2)}] }`, 'mask: { kind: keep-ends, keepStart: 1, keepEnd: 0 }');
      continue;
    }
    const d = Number(r.slice(5, 7));
    rule('mask', `[${BASIS.idCard}, ${BASIS.pipl6}]`, `{ resources: [${r}], items: [idNumber] }`, 'mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }');
    rule('mask', BASIS.pipl6, `{ resources: [${r}], items: [birthDate], unlessPurposes: ["SI-${String(d).padStart(2, '0')}-*"] }`, 'mask: { kind: year-month }');
    rule('mask', BASIS.minors, `{ resources: [${r}], items: [address], subjectCategories: [minor] }`, 'mask: { kind: keep-ends, keepStart: 9, keepEnd: 0 }');
    rule('deny', BASIS.pipl31, `{ resources: [${r}], items: [photo], subjectCategories: [under-14] }`);
    rule('conditional', `[${BASIS.pipl28}, ${BASIS.pipl34}]`, `{ resources: [${r}], items: [photo] }`, 'condition: 经供给部门逐次审核同意');
    rule('deny', BASIS.pipl28, `{ resources: [${r}], items: [ethnicity], unlessPurposes: ["SI-MW-*", "SI-MZ-*"] }`);
    rule('deny', BASIS.pipl34, `{ resources: [${r}], items: [income], unlessPurposes: ["SI-MZ-02*", "SI-RS-*"] }`);
    rule('conditional', BASIS.pipl28, `{ resources: [${r}], items: [healthStatus], purposes: ["SI-WJ-*"] }`, 'condition: 经卫生健康部门审核同意');
    rule('deny', BASIS.pipl6, `{ resources: [${r}], items: [phone], requesters: [${depts(3)}] }`);
    rule('deny', BASIS.pipl6, `{ resources: [${r}], items: [idNumber], requesters: [${depts(1)}] }`);
    rule('deny', BASIS.pipl6, `{ resources: [${r}], items: [${field(10)}], requesters: [${depts(2)}] }`);
    rule('deny', BASIS.sharing, `{ resources: [${r}], items: [${field(10)}], notBefore: "2025-01-01", notAfter: "2025-06-30" }`);
    rule('mask', BASIS.pipl6, `{ resources: [${r}], items: [${field(10)}], hours: "22:00-06:00" }`, 'mask: { kind: redact }');
    rule('conditional', BASIS.pipl34, `{ resources: [${r}], items: [${field(10)}], purposes: ["SI-${String((d + 1) % DEPARTMENTS).padStart(2, '0')}-*"] }`, 'condition: 经供给部门审核同意');
    rule('mask', BASIS.pipl6, `{ resources: [${r}], items: [name], subjectCategories: [under-14], requesters: [${depts(1)}] }`, 'mask: { kind: keep-ends, keepStart: 1, keepEnd: 0 }');
  }
  return { text: `${lines.join('\n')}\n`, rules: n };
}

/** The smallest valid list for the catalogue: one deny per 不予共享 resource. */
function minimalPolicy(catalogue: StaticCatalogue): string {
  const lines = ['revision: "bench-minimal"', 'rules:'];
  for (const res of catalogue.listResources()) {
    if (res.sharingClass === 'not-shared') lines.push(`  - id: MIN-${res.code}`, '    effect: deny', `    legalBasis: ${BASIS.secrets}`, `    match: { resources: [${res.code}] }`);
  }
  return `${lines.join('\n')}\n`;
}

export function benchRequests(catalogue: StaticCatalogue, count = REQUESTS, seed = 2): DecisionRequest[] {
  const random = seededRandom(seed);
  const resources = catalogue.listResources();
  const from = Date.parse('2025-01-01T00:00:00+08:00');
  const span = 365 * 86_400_000;
  const purposes = ['SI-MZ-0201', 'SI-RS-0101', 'SI-WJ-0201', 'SI-MW-0101', 'SI-SC-0301', 'SI-ZR-0401'];
  for (let d = 0; d < DEPARTMENTS; d++) purposes.push(`SI-${String(d).padStart(2, '0')}-0001`);
  const out: DecisionRequest[] = [];
  for (let i = 0; i < count; i++) {
    const res = resources[Math.floor(random() * resources.length)]!;
    const want = 1 + Math.floor(random() * 10);
    const items = new Set<string>();
    while (items.size < want) items.add(res.items[Math.floor(random() * res.items.length)]!.code);
    if (random() < 0.01) items.add('noSuchItem');
    const at = from + Math.floor(random() * span);
    const birthYear = 2025 - 1 - Math.floor(random() * 85);
    out.push({
      requester: departmentUscc(Math.floor(random() * DEPARTMENTS)),
      resource: res.code,
      items: [...items],
      subject: res.subjectKind === 'person' ? { kind: 'person', id: residentId(birthYear, 1 + Math.floor(random() * 12), 1 + Math.floor(random() * 28), i) } : { kind: 'organisation', id: departmentUscc(i % 997) },
      purpose: { serviceItem: purposes[Math.floor(random() * purposes.length)]!, caseNumber: `2101${String(i).padStart(12, '0')}` },
      at: new Date(at),
      grant: random() < 0.05 ? { id: `G-${i}`, requester: '', resource: res.code, items: ['photo'], rules: [] } : null,
    });
  }
  // Grants belong to their requester; they name no rule, so they exercise the grant check without satisfying it.
  return out.map((r) => (r.grant ? { ...r, grant: { ...r.grant, requester: r.requester } } : r));
}

export interface DecideFigures {
  name: string;
  rules: number;
  compileMs: number;
  calls: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  decisionsPerSecond: number;
  outcomes: Record<string, number>;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function measure(name: string, policy: CompiledPolicy, rules: number, compileMs: number, requests: readonly DecisionRequest[], seconds: number): DecideFigures {
  const outcomes: Record<string, number> = { permit: 0, conditional: 0, deny: 0 };
  const n = requests.length;
  // Warm-up: let the JIT settle on the request path.
  for (let i = 0; i < 300_000; i++) policy.decide(requests[i % n]!);

  // Latency: each call timed on its own. The timer's own cost (two hrtime calls) is measured and subtracted.
  const calls = Math.max(200_000, Math.min(2_000_000, Math.round(seconds * 300_000)));
  const samples = new Float64Array(calls);
  let overhead = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10_000; i++) {
    const a = process.hrtime.bigint();
    const b = process.hrtime.bigint();
    overhead = Math.min(overhead, Number(b - a));
  }
  for (let i = 0; i < calls; i++) {
    const request = requests[i % n]!;
    const t0 = process.hrtime.bigint();
    const d = policy.decide(request);
    const t1 = process.hrtime.bigint();
    samples[i] = Math.max(0, Number(t1 - t0) - overhead);
    outcomes[d.outcome]!++;
  }
  samples.sort();

  // Rate: untimed loop for `seconds`.
  let done = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 1000; i++) policy.decide(requests[(done + i) % n]!);
    done += 1000;
    now = process.hrtime.bigint();
  }
  const decisionsPerSecond = done / (Number(now - start) / 1e9);
  return {
    name,
    rules,
    compileMs,
    calls,
    p50Ns: percentile(samples, 0.5),
    p90Ns: percentile(samples, 0.9),
    p99Ns: percentile(samples, 0.99),
    p999Ns: percentile(samples, 0.999),
    maxNs: samples[samples.length - 1]!,
    decisionsPerSecond,
    outcomes,
  };
}

export async function benchDecide(seconds: number): Promise<DecideFigures[]> {
  const catalogue = largeCatalogue();
  const requests = benchRequests(catalogue);
  const { text, rules } = largePolicy(catalogue);
  if (rules < 10_000) throw new Error(`the bench policy has ${rules} rules; it must have at least 10,000`);
  let t = performance.now();
  const large = compilePolicy(catalogue, [{ name: 'bench/large.yaml', text }]);
  const largeMs = performance.now() - t;
  const minimalText = minimalPolicy(catalogue);
  t = performance.now();
  const minimal = compilePolicy(catalogue, [{ name: 'bench/minimal.yaml', text: minimalText }]);
  const minimalMs = performance.now() - t;
  return [
    measure(`baseline: minimal list (${minimal.rules.length} rules)`, minimal, minimal.rules.length, minimalMs, requests, seconds),
    measure(`large list (${rules.toLocaleString('en')} rules, ${(text.length / 2 ** 20).toFixed(1)} MiB YAML)`, large, rules, largeMs, requests, seconds),
  ];
}

export function printDecide(results: DecideFigures[], seconds: number): void {
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
  process.stdout.write(
    `policies decide(): ${RESOURCES} resources × ${ITEMS_PER_RESOURCE} items, ${REQUESTS.toLocaleString('en')} distinct requests (1–10 items), one core; per-call hrtime timing (timer cost subtracted), rate from an untimed ${seconds} s loop:\n`,
  );
  const base = results[0]!;
  for (const r of results) {
    const share = ((r.decisionsPerSecond / base.decisionsPerSecond) * 100).toFixed(0);
    const total = r.outcomes.permit! + r.outcomes.conditional! + r.outcomes.deny!;
    const mix = ['permit', 'conditional', 'deny'].map((o) => `${o} ${((r.outcomes[o]! / total) * 100).toFixed(0)} %`).join(', ');
    process.stdout.write(
      `  ${r.name.padEnd(46)} compile ${r.compileMs.toFixed(0).padStart(5)} ms  p50 ${us(r.p50Ns)}  p90 ${us(r.p90Ns)}  p99 ${us(r.p99Ns)}  p99.9 ${us(r.p999Ns)}  max ${us(r.maxNs)}  ${Math.round(r.decisionsPerSecond).toLocaleString('en').padStart(10)} decisions/s (${share} % of baseline; ${mix}; ${r.calls.toLocaleString('en')} timed calls)\n`,
    );
  }
  const large = results[results.length - 1]!;
  process.stdout.write(`  goal p99 ≤ 20 µs with ≥ 10,000 rules: ${large.p99Ns <= 20_000 ? 'met' : 'NOT met'} (p99 ${us(large.p99Ns)})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.env.ZT_BENCH_SECONDS ?? 3);
  process.stdout.write(`machine: ${describeMachine()}\n`);
  printDecide(await benchDecide(seconds), seconds);
}
