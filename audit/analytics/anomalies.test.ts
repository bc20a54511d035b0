// Each anomaly rule on planted data, and none of them on a normal week: departments working steady hours with
// noisy volumes, several operators each, every case number used for one service item.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../core/storage/index.js';
import { openMigratedDatabase } from '../../test/support/ca.js';
import type { AccessRecordJson } from '../access-record.js';
import { anomalySettings, detectAnomalies, type AnomalyFlag, type AnomalySettings } from './anomalies.js';
import { AnalyticsProjection } from './projection.js';
import { GA, MZ, permitted, person, refused, YS } from './test-support.js';
import { WorkingHours } from './working-hours.js';

const hours = WorkingHours.parse();
const NEW_DEPT = '11210100001000088R';
const PATTERN = '^[A-Z]{2}-2026-[0-9]{6}$';
// Monday 2026-03-02 to Monday 2026-03-09 (China time); the analysed day is Monday 2026-03-09.
const DAY = '2026-03-09';
const FROM = new Date(`${DAY}T00:00:00+08:00`);
const TO = new Date(`${DAY}T24:00:00+08:00`);

/** A deterministic pseudo-random sequence, so the normal week is the same on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

let subjectCounter = 0;
let caseCounter = 0;

/** A normal working week: 5 operators per department, 20–40 requests an hour in working hours on working days. */
function normalWeek(): AccessRecordJson[] {
  const rnd = random(7);
  const out: AccessRecordJson[] = [];
  for (let d = 0; d < 8; d++) {
    const date = new Date(Date.parse('2026-03-02T00:00:00+08:00') + d * 86_400_000);
    const iso = new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
    if (!hours.isWorkingDay(iso)) continue;
    for (const [di, dept] of [GA, YS, MZ].entries()) {
      const prefix = ['GA', 'YS', 'MZ'][di]!;
      for (const hour of [9, 10, 11, 13, 14, 15, 16]) {
        {
          const minute = hour * 60;
          const n = 20 + Math.floor(rnd() * 20);
          for (let i = 0; i < n; i++) {
            const at = new Date(date.getTime() + (minute + rnd() * 59) * 60_000);
            const caseNumber = `${prefix}-2026-${String(++caseCounter).padStart(6, '0')}`;
            out.push(
              permitted(at, {
                requester: dept,
                operator: `op-${di}-${Math.floor(rnd() * 5)}`,
                subjectCode: person(++subjectCounter),
                caseNumber,
                serviceItem: `SI-${Math.floor(rnd() * 4)}`,
                latencyMs: 2 + rnd() * 20,
              }),
            );
          }
        }
      }
    }
  }
  return out;
}

function planted(): AccessRecordJson[] {
  const out: AccessRecordJson[] = [];
  const at = (time: string, plusSeconds = 0) => new Date(Date.parse(`${DAY}T${time}:00+08:00`) + plusSeconds * 1000);
  // volume-spike: GA, 600 requests between 14:00 and 15:00.
  for (let i = 0; i < 600; i++) out.push(permitted(at('14:00', i * 5), { requester: GA, operator: `op-0-${i % 5}`, subjectCode: person(100_000 + i), caseNumber: `GA-2026-9${String(i).padStart(5, '0')}` }));
  // outside-working-hours: YS's 王五 at 22:00.
  for (let i = 0; i < 5; i++) out.push(permitted(at('22:00', i * 60), { requester: YS, operator: '王五', subjectCode: person(200_000 + i), caseNumber: `YS-2026-8${String(i).padStart(5, '0')}` }));
  // missing-case-number: MZ's 赵六, three refused requests without one.
  for (let i = 0; i < 3; i++) out.push(refused(at('10:20', i), { requester: MZ, operator: '赵六', caseNumber: null, serviceItem: null }));
  // case-number-mismatch: one YS case used for SI-A, then for SI-B; and a case number outside the pattern.
  out.push(permitted(at('09:10'), { requester: YS, operator: 'op-1-1', caseNumber: 'YS-2026-777777', serviceItem: 'SI-A', subjectCode: person(300_001) }));
  out.push(permitted(at('10:05'), { requester: YS, operator: 'op-1-1', caseNumber: 'YS-2026-777777', serviceItem: 'SI-B', subjectCode: person(300_002) }));
  out.push(permitted(at('11:00'), { requester: MZ, operator: 'op-2-2', caseNumber: 'bad case 1', subjectCode: person(300_003) }));
  // operator-many-subjects: MZ's 钱七 reads 250 distinct subjects over the working day.
  for (let i = 0; i < 250; i++) {
    out.push(permitted(at(i < 125 ? '09:00' : '13:30', (i % 125) * 60), { requester: MZ, operator: '钱七', subjectCode: person(400_000 + i), caseNumber: `MZ-2026-7${String(i).padStart(5, '0')}` }));
  }
  // volume-spike without history: a department seen for the first time today, 10 an hour, then 300 at 15:00.
  for (const h of ['09', '10', '11', '13', '14', '16']) for (let i = 0; i < 10; i++) out.push(permitted(at(`${h}:05`, i * 60), { requester: NEW_DEPT, operator: 'op-n', subjectCode: person(500_000 + i), caseNumber: `XX-2026-${h}${String(i).padStart(4, '0')}` }));
  for (let i = 0; i < 300; i++) out.push(permitted(at('15:00', i * 10), { requester: NEW_DEPT, operator: `op-n${i % 4}`, subjectCode: person(600_000 + i), caseNumber: `XX-2026-5${String(i).padStart(5, '0')}` }));
  return out;
}

async function load(records: AccessRecordJson[]): Promise<Database> {
  const db = await openMigratedDatabase();
  const projection = new AnalyticsProjection(db, { workingHours: hours, retentionDays: 30 });
  for (let i = 0; i < records.length; i += 500) await projection.apply(records.slice(i, i + 500));
  return db;
}

const settings: AnomalySettings = anomalySettings(hours, { caseNumberPattern: PATTERN });

describe('anomaly flags', () => {
  let normal: Database;
  let flagged: Database;
  let week: AccessRecordJson[];

  beforeAll(async () => {
    week = normalWeek();
    normal = await load(week);
    flagged = await load([...week, ...planted()]);
  }, 120_000);

  afterAll(async () => {
    await normal?.close();
    await flagged?.close();
  });

  it('raises nothing on a normal week', async () => {
    const report = await detectAnomalies(normal, { from: FROM, to: TO, settings });
    expect(report.flags.map((f) => f.reason)).toEqual([]);
    // The same week over every day of it.
    const all = await detectAnomalies(normal, { from: new Date('2026-03-02T00:00:00+08:00'), to: TO, settings });
    expect(all.flags.map((f) => f.reason)).toEqual([]);
  });

  describe('on planted data', () => {
    let flags: AnomalyFlag[];
    beforeAll(async () => {
      flags = (await detectAnomalies(flagged, { from: FROM, to: TO, settings })).flags;
    });
    const of = (kind: string, department: string) => flags.filter((f) => f.kind === kind && f.department === department);

    it('finds a volume spike against the department\'s own baseline', () => {
      const [spike, ...more] = of('volume-spike', GA);
      expect(more).toEqual([]);
      expect(spike).toMatchObject({ rule: 'volume-spike/own-baseline', window: { from: '2026-03-09T06:00:00.000Z', to: '2026-03-09T07:00:00.000Z' } });
      expect(spike!.evidence.requests).toBeGreaterThanOrEqual(600);
      expect(spike!.evidence.baselineMedian).toBeGreaterThan(20);
      expect(spike!.evidence.baselineMedian).toBeLessThan(40);
      expect(spike!.reason).toMatch(/^6\d\d requests on 2026-03-09 14:00–15:00 \(China time\) against a baseline of [\d.]+ ± [\d.]+ per hour \(its median over the previous 7 days' working hours\): \d+× its own baseline$/);
    });

    it('finds a spike of a department without history against its other hours of the day', () => {
      const [spike, ...more] = of('volume-spike', NEW_DEPT);
      expect(more).toEqual([]);
      expect(spike).toMatchObject({ rule: 'volume-spike/same-day', evidence: { requests: 300, baselineMedian: 10 } });
      expect(spike!.reason).toContain('its median over its other');
    });

    it('finds access outside working hours, naming the operator', () => {
      const [flag, ...more] = of('outside-working-hours', YS);
      expect(more).toEqual([]);
      expect(flag).toMatchObject({ operator: '王五', evidence: { requests: 5 }, rule: 'outside-working-hours/time' });
      expect(flag!.reason).toContain('between 22:00 and 22:04');
      expect(flag!.samples.recordIds).toHaveLength(5);
    });

    it('finds requests without a case number', () => {
      expect(of('missing-case-number', MZ)).toMatchObject([{ operator: '赵六', evidence: { requests: 3 } }]);
    });

    it('finds a case number used for another service item, and one outside the pattern', () => {
      const mismatch = flags.filter((f) => f.kind === 'case-number-mismatch');
      expect(mismatch.map((f) => [f.rule, f.department, f.samples.caseNumbers])).toEqual([
        ['case-number-mismatch/service-item', YS, ['YS-2026-777777']],
        ['case-number-mismatch/pattern', MZ, ['bad case 1']],
      ]);
      expect(mismatch[0]!.reason).toContain('YS-2026-777777 first for SI-A, then for SI-B (1 request)');
    });

    it('finds an operator reading many more subjects than the others', () => {
      const [flag, ...more] = of('operator-many-subjects', MZ);
      expect(more).toEqual([]);
      expect(flag).toMatchObject({ operator: '钱七', evidence: { subjects: 250, limit: 100 }, rule: 'operator-many-subjects/peers' });
    });

    it('gives every flag a reason, and only the planted ones', () => {
      expect(flags.every((f) => f.reason.length > 20 && f.id.startsWith(`${f.kind}/`))).toBe(true);
      expect(flags.map((f) => f.kind).sort()).toEqual(
        ['case-number-mismatch', 'case-number-mismatch', 'missing-case-number', 'operator-many-subjects', 'outside-working-hours', 'volume-spike', 'volume-spike'].sort(),
      );
    });

    it('is deterministic', async () => {
      expect((await detectAnomalies(flagged, { from: FROM, to: TO, settings })).flags).toEqual(flags);
    });

    it('follows its thresholds', async () => {
      const strict = anomalySettings(hours, { operatorSubjectsPerDay: 300, spike: { ratio: 50 } });
      const kinds = (await detectAnomalies(flagged, { from: FROM, to: TO, settings: strict })).flags.map((f) => f.kind);
      expect(kinds).not.toContain('operator-many-subjects');
      expect(kinds).not.toContain('volume-spike');
      expect(kinds.filter((k) => k === 'case-number-mismatch')).toHaveLength(1); // no pattern set
    });
  });
});
