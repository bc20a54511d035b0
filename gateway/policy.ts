// Keeps the negative-list engine in step with its two inputs: the policy files (reloaded on SIGHUP or on request)
// and the data catalogue (recompiled when a resource is published, in every instance, through the event bus).
import type { EventBus, Subscription } from '../core/events/index.js';
import type { Logger } from '../core/logging/index.js';
import { catalogueOf, PolicyEngine, readPolicyDirectory, type CatalogueView, type ReloadResult } from '../policies/index.js';
import { CATALOGUE_EVENTS_TOPIC, type CatalogueService } from '../registry/catalogue/index.js';

export async function catalogueSnapshot(catalogue: CatalogueService): Promise<CatalogueView> {
  const resources = await catalogue.exportAll();
  const latest = resources.reduce((t, r) => Math.max(t, r.updatedAt.getTime()), 0);
  return catalogueOf(`${resources.length}@${new Date(latest).toISOString()}`, resources);
}

export class PolicyHolder {
  readonly engine: PolicyEngine;
  readonly #dir: string;
  readonly #catalogue: CatalogueService;
  readonly #logger: Logger;

  private constructor(engine: PolicyEngine, dir: string, catalogue: CatalogueService, logger: Logger) {
    this.engine = engine;
    this.#dir = dir;
    this.#catalogue = catalogue;
    this.#logger = logger;
  }

  /** Compiles the files in dir against the current catalogue; ZT_ERR_POLICY_INVALID (file:line reasons) otherwise. */
  static async load(dir: string, catalogue: CatalogueService, logger: Logger): Promise<PolicyHolder> {
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), readPolicyDirectory(dir));
    return new PolicyHolder(engine, dir, catalogue, logger);
  }

  /** An empty list: everything is shared as the catalogue's sharing classes say. reload() reads dir later. */
  static async empty(catalogue: CatalogueService, logger: Logger, dir = ''): Promise<PolicyHolder> {
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), [{ name: 'empty.yaml', text: 'revision: empty\nrules: []\n' }]);
    return new PolicyHolder(engine, dir, catalogue, logger);
  }

  /** Re-reads the files and recompiles against the current catalogue; on error the set in force stays and it throws. */
  async reload(): Promise<ReloadResult> {
    const result = this.engine.reload(readPolicyDirectory(this.#dir), await catalogueSnapshot(this.#catalogue));
    if (result.changed) this.#logger.info({ previous: result.previous, revision: result.revision }, 'negative list reloaded');
    return result;
  }

  /** Recompiles when the catalogue changes anywhere (a per-instance consumer group hears every change). */
  listen(bus: EventBus, instanceId: string): Promise<Subscription> {
    return bus.subscribe({
      topics: [CATALOGUE_EVENTS_TOPIC],
      group: `policy.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        if (event.headers['zt-event-type'] !== 'resource.published') return;
        await this.reload().catch((error: unknown) =>
          this.#logger.error({ err: error }, 'the negative list does not compile against the changed catalogue; the previous set stays in force'),
        );
      },
    });
  }
}
