// The scenario's world, on top of the demo (departments, catalogue, datasets): the demands its departments work
// under, registered a month before the first simulated day and approved by their suppliers, each step signed by the
// department taking it. Two more show the application–reply procedure at its worst: one demand left unanswered past
// its deadline, one answered late.
import { signTransition, type DemandService, type TransitionToSign } from '../../registry/catalogue/index.js';
import type { DemoSigners } from '../../demo/index.js';
import { chinaMidnight, HEALTH, NATURAL_RESOURCES, SCENARIO_DEMANDS } from './plan.js';

const DAY = 86_400_000;

export interface WorldReport {
  /** Demands registered by this run (a world already there is reused). */
  registered: number;
  approved: number;
}

/** Registers the scenario's demands (if absent) so that they are in force from `firstDay` to well after `lastDay`. */
export async function buildWorld(demands: DemandService, signers: DemoSigners, firstDay: string, lastDay: string): Promise<WorldReport> {
  const signed = async (step: TransitionToSign) => signTransition(await signers.signerFor(step.actor), step);
  const report: WorldReport = { registered: 0, approved: 0 };
  const registeredAt = new Date(chinaMidnight(firstDay) - 30 * DAY + 10 * 3600_000);
  const validTo = demands.today(new Date(chinaMidnight(lastDay) + 365 * DAY));
  const existing = new Set((await demands.exportAll({})).map((d) => `${d.requester}/${d.resource}/${d.serviceItem}`));
  const register = async (
    registration: { requester: string; resource: string; items: readonly string[]; serviceItem: string; legalBasis: { title: string; article?: string }; expectedDailyVolume: number },
    at: Date,
  ) => {
    const content = { ...registration, validFrom: demands.today(at), validTo };
    const demand = await demands.register(content, { at, proof: await signed({ kind: 'register', actor: registration.requester, content }) });
    report.registered++;
    return demand;
  };
  for (const d of SCENARIO_DEMANDS) {
    if (existing.has(`${d.requester}/${d.resource}/${d.serviceItem}`)) continue;
    const demand = await register(
      { requester: d.requester, resource: d.resource, items: d.items, serviceItem: d.serviceItem, legalBasis: d.legalBasis, expectedDailyVolume: d.perDay },
      registeredAt,
    );
    if (demand.state === 'pending') {
      // The supplier approves the next day, without a daily quota.
      const input = { actor: demand.provider, terms: {} };
      await demands.approve(demand.id, input, { at: new Date(registeredAt.getTime() + DAY), proof: await signed({ kind: 'approve', demandId: demand.id, actor: input.actor, content: input }) });
      report.approved++;
    }
  }
  // 自然资源局 asks 人社局 for social insurance status ten days before the simulated day; nobody answers.
  const unanswered = { requester: NATURAL_RESOURCES, resource: '210100-RS-0001', items: ['name', 'status'], serviceItem: 'BDCDJ-210100-0110', legalBasis: { title: '《不动产登记暂行条例》', article: '第二十八条' }, expectedDailyVolume: 50 };
  if (!existing.has(`${unanswered.requester}/${unanswered.resource}/${unanswered.serviceItem}`)) {
    await register(unanswered, new Date(chinaMidnight(lastDay) - 10 * DAY + 9 * 3600_000));
  }
  // 卫健委 asks 公安局 for household data three weeks before; 公安局 answers after eight days, past its deadline.
  const late = { requester: HEALTH, resource: '210100-GA-0001', items: ['name', 'address'], serviceItem: 'GGWS-210100-0111', legalBasis: { title: '《突发公共卫生事件应急条例》', article: '第二十一条' }, expectedDailyVolume: 20 };
  if (!existing.has(`${late.requester}/${late.resource}/${late.serviceItem}`)) {
    const at = new Date(chinaMidnight(lastDay) - 21 * DAY + 9 * 3600_000);
    const demand = await register(late, at);
    if (demand.state === 'pending') {
      const input = { actor: demand.provider, terms: {} };
      await demands.approve(demand.id, input, { at: new Date(at.getTime() + 8 * DAY), proof: await signed({ kind: 'approve', demandId: demand.id, actor: input.actor, content: input }) });
      report.approved++;
    }
  }
  return report;
}
