import { describe, expect, it } from 'vitest';
import { demoCatalogue } from './catalogue.js';
import { compilePolicy } from './compile.js';
import { PolicyEngine } from './engine.js';
import { defaultPolicyDirectory, readPolicyDirectory } from './files.js';
import { formatImpact, impact, type RecordedDecision } from './impact.js';
import { DEMO_REQUESTERS, syntheticDecisions, syntheticRequests } from './synthetic.js';

const catalogue = demoCatalogue();
const sources = readPolicyDirectory(defaultPolicyDirectory());
const current = compilePolicy(catalogue, sources);
const recorded = syntheticDecisions(current, { count: 3000, seed: 7 });

/** The default policy with `edit` applied to its text and a new revision. */
function candidate(edit: (text: string) => string, revision = 'candidate-1') {
  const text = edit(sources[0]!.text).replace('revision: "2025-08-01.1"', `revision: "${revision}"`);
  expect(text).not.toBe(sources[0]!.text);
  return compilePolicy(catalogue, [{ name: sources[0]!.name, text }]);
}

describe('synthetic decisions', () => {
  it('are deterministic for a seed and cover every resource, requester and outcome', () => {
    expect(syntheticRequests(current, { count: 50, seed: 7 })).toEqual(recorded.slice(0, 50).map((r) => r.request));
    expect(new Set(recorded.map((r) => r.request.resource)).size).toBe(current.resourceCount);
    expect(new Set(recorded.map((r) => r.request.requester)).size).toBe(DEMO_REQUESTERS.length);
    expect(new Set(recorded.map((r) => r.decision.outcome))).toEqual(new Set(['permit', 'deny', 'conditional']));
    expect(recorded.every((r) => r.decision.revision === '2025-08-01.1')).toBe(true);
  });
});

describe('impact', () => {
  it('reports nothing for the set in force', () => {
    const report = impact(current, recorded);
    expect(report).toMatchObject({ decisions: 3000, changed: 0, basisOnly: 0, byDepartment: [], byResource: [], changes: [], recordedRevisions: ['2025-08-01.1'] });
  });

  it('finds exactly the decisions a stronger mask would change, all tighter, grouped by department and resource', () => {
    const report = impact(candidate((t) => t.replace('mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }', 'mask: { kind: redact }')), recorded);
    const masked = (r: RecordedDecision) => r.decision.items.some((i) => i.mask?.kind === 'keep-ends' && i.mask.keepStart === 6);
    const affected = recorded.filter(masked);
    expect(affected.length).toBeGreaterThan(50);
    expect(report.changed).toBe(affected.length);
    expect(report.changes.every((c) => c.direction === 'tighter')).toBe(true);
    expect(report.changes[0]!.before.released.some((r) => r.endsWith('[keep-ends:6/4]'))).toBe(true);
    expect(report.changes[0]!.after.released.some((r) => r.endsWith('[redact]'))).toBe(true);
    const perResource = (code: string) => affected.filter((r) => r.request.resource === code).length;
    expect(report.byResource.map((g) => [g.key, g.changed, g.tighter])).toEqual(
      ['210100-GA-0001', '210100-RS-0001', '210100-MZ-0001'].map((code) => [code, perResource(code), perResource(code)]).sort((a, b) => (b[1] as number) - (a[1] as number)),
    );
    expect(report.byResource.find((g) => g.key === '210100-GA-0001')!.name).toBe('人口基本信息');
    expect(report.byDepartment.reduce((n, g) => n + g.changed, 0)).toBe(affected.length);
    for (const g of report.byDepartment) {
      expect(g.name).toBe(DEMO_REQUESTERS.find((d) => d.uscc === g.key)!.name);
      expect(g.decisions).toBe(recorded.filter((r) => r.request.requester === g.key).length);
    }
    expect(formatImpact(report)).toMatch(/would change[\s\S]*by department:\n {2}沈阳市[\s\S]*by resource:\n {2}\S+ \(210100-[A-Z]{2}-0001\)/);
  });

  it('finds the decisions that dropping a deny would loosen', () => {
    const report = impact(
      candidate((t) => t.replace(/ {2}- id: NL-GA-0005[\s\S]*?unlessPurposes: \["SHJZ-\*", "MZSW-\*"\]\n/, '')),
      recorded,
    );
    const affected = recorded.filter((r) => r.decision.withheld.some((w) => w.rules.includes('NL-GA-0005')));
    expect(affected.length).toBeGreaterThan(10);
    expect(report.changed).toBe(affected.length);
    expect(report.changes.every((c) => c.direction === 'looser')).toBe(true);
    expect(Object.keys(report.transitions).every((t) => ['permit→permit', 'deny→permit', 'deny→conditional', 'conditional→conditional'].includes(t))).toBe(true);
  });

  it('counts a renamed rule as a change of basis only', () => {
    const report = impact(candidate((t) => t.replace('id: NL-0001', 'id: NL-0001A')), recorded);
    expect(report.changed).toBe(0);
    expect(report.basisOnly).toBe(recorded.filter((r) => r.decision.rules.some((x) => x.id === 'NL-0001')).length);
  });

  it('does not log the candidate decisions to an engine sink', () => {
    let logged = 0;
    const engine = PolicyEngine.load(catalogue, sources, { onDecision: () => logged++ });
    expect(impact(engine, recorded.slice(0, 100)).decisions).toBe(100);
    expect(logged).toBe(0);
  });
});
