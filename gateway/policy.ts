// Keeps the negative-list engine in step with its two inputs: the policy files (reloaded on SIGHUP or on request)
// and the data catalogue (recompiled when a resource is published, in every instance, through the event bus).
import type { EventBus, Subscription } from '../core/events/index.js';
import type { Logger } from '../core/logging/index.js';
import { catalogueOf, PolicyEngine, readPolicyDirectory, type CatalogueView, type ReloadResult } from '../policies/index.js';
import { CATALOGUE_EVENTS_TOPIC, type CatalogueService } from '../registry/catalogue/index.js';

/**
 * Told of every set put in force (at load and after each reload that changed it), so that the revision and its
 * rules are kept (audit/search/policy-revisions.ts): a record citing them stays explainable after the list moves on.
 */
export type PolicyLoadedHook = (engine: PolicyEngine) => Promise<unknown>;

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
  readonly #onLoaded: PolicyLoadedHook | null;

  private constructor(engine: PolicyEngine, dir: string, catalogue: CatalogueService, logger: Logger, onLoaded: PolicyLoadedHook | null) {
    this.engine = engine;
    this.#dir = dir;
    this.#catalogue = catalogue;
    this.#logger = logger;
    this.#onLoaded = onLoaded;
  }

  /** Compiles the files in dir against the current catalogue; ZT_ERR_POLICY_INVALID (file:line reasons) otherwise. */
  static async load(dir: string, catalogue: CatalogueService, logger: Logger, onLoaded: PolicyLoadedHook | null = null): Promise<PolicyHolder> {
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), readPolicyDirectory(dir));
    await onLoaded?.(engine);
    return new PolicyHolder(engine, dir, catalogue, logger, onLoaded);
  }

  /** An empty list: everything is shared as the catalogue's sharing classes say. reload() reads dir later. */
  static async empty(catalogue: CatalogueService, logger: Logger, dir = '', onLoaded: PolicyLoadedHook | null = null): Promise<PolicyHolder> {
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), [{ name: 'empty.yaml', text: 'revision: empty\nrules: []\n' }]);
    await onLoaded?.(engine);
    return new PolicyHolder(engine, dir, catalogue, logger, onLoaded);
  }

  /** Re-reads the files and recompiles against the current catalogue; on error the set in force stays and it throws. */
  async reload(): Promise<ReloadResult> {
    const result = this.engine.reload(readPolicyDirectory(this.#dir), await catalogueSnapshot(this.#catalogue));
    if (result.changed) {
      this.#logger.info({ previous: result.previous, revision: result.revision }, 'negative list reloaded');
      // The set is in force already; a failure to keep it is logged loudly rather than undoing the swap.
      await this.#onLoaded?.(this.engine).catch((error: unknown) =>
        this.#logger.error({ err: error, revision: result.revision }, 'the reloaded negative list could not be kept in policy_revisions; records citing it cannot be traced to its text'),
      );
    }
    return result;
  }

  /** Recompiles when the catalogue changes anywhere (a per-instance consumer group hears every change). */
  listen(bus: EventBus, instanceId: string): Promise<Subscription> {
    return bus.subscribe({
      topics: [CATALOGUE_EVENTS_TOPIC],
      group: `policy.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        const type = event.headers['zt-event-type'];
        if (type !== 'resource.published' && type !== 'resource.revised') return;
        await this.reload().catch((error: unknown) =>
          this.#logger.error({ err: error }, 'the negative list does not compile against the changed catalogue; the previous set stays in force'),
        );
      },
    });
  }
}
