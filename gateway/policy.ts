// Keeps the negative-list engine in step with its two inputs: the policy files (reloaded on SIGHUP or on request)
// and the data catalogue (recompiled when a resource is published, in every instance, through the event bus).
// A reload requested on one instance is announced on the bus (policy.reloaded), and every other instance reloads
// its own files: the files are each instance's source of truth, and a deployment keeps them identical.
import type { DeliveredEvent, EventBus, OutgoingEvent, Subscription } from '../core/events/index.js';
import type { Logger } from '../core/logging/index.js';
import { catalogueOf, PolicyEngine, readPolicyDirectory, type CatalogueView, type PolicyStatus, type ReloadResult } from '../policies/index.js';
import { CATALOGUE_EVENTS_TOPIC, type CatalogueService } from '../registry/catalogue/index.js';

/**
 * Told of every set put in force (at load and after each reload that changed it), so that the revision and its
 * rules are kept (audit/search/policy-revisions.ts): a record citing them stays explainable after the list moves on.
 */
export type PolicyLoadedHook = (engine: PolicyEngine) => Promise<unknown>;

/** The zt-event-type of the announcement, on CATALOGUE_EVENTS_TOPIC (which every instance already hears). */
export const POLICY_RELOADED_EVENT = 'policy.reloaded';

/** What a reload requested on one instance put in force, as told to the others. */
export interface PolicyReloaded {
  readonly revision: string;
  /** PolicyStatus.digest of the files put in force: the others compare theirs with it. */
  readonly digest: string;
  /** The revision it replaced there. */
  readonly previous: string;
  /** ZT_INSTANCE_ID of the instance that reloaded. */
  readonly instance: string;
}

/**
 * Tells the other instances, durably: resolves once the announcement is committed (gateway/app.ts writes it to the
 * outbox and nudges the relay), rejects if it could not be.
 */
export type PolicyAnnouncer = (reloaded: PolicyReloaded) => Promise<void>;

/** The announcement as an event: one key, so announcements keep their order. */
export function policyReloadedEvent(reloaded: PolicyReloaded): OutgoingEvent {
  const { revision, digest, previous, instance } = reloaded;
  return { key: 'negative-list', value: JSON.stringify({ revision, digest, previous, instance }), headers: { 'zt-event-type': POLICY_RELOADED_EVENT } };
}

/** The announcement an event carries, or null if its value is not one. */
export function parsePolicyReloaded(value: Buffer): PolicyReloaded | null {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object') return null;
  const { revision, digest, previous, instance } = body;
  if (typeof revision !== 'string' || typeof digest !== 'string' || typeof instance !== 'string') return null;
  return { revision, digest, previous: typeof previous === 'string' ? previous : '', instance };
}

/** A reload requested on this instance: what it put in force and whether the other instances were told. */
export interface RequestedReload extends ReloadResult {
  /** True once the announcement is committed; false when nothing changed, nobody is told here, or telling failed. */
  readonly announced: boolean;
}

export interface PolicyHolderOptions {
  readonly onLoaded?: PolicyLoadedHook | null;
  /** Without one (tests, tools), a requested reload stays on this instance. */
  readonly announce?: PolicyAnnouncer | null;
  /** The instance named in announcements; required with announce. */
  readonly instanceId?: string;
}

export async function catalogueSnapshot(catalogue: CatalogueService): Promise<CatalogueView> {
  const resources = await catalogue.exportAll();
  const latest = resources.reduce((t, r) => Math.max(t, r.updatedAt.getTime()), 0);
  return catalogueOf(`${resources.length}@${new Date(latest).toISOString()}`, resources);
}

/** Why a reload ran, in its log line. */
type ReloadCause = 'requested' | 'catalogue' | 'announced';

export class PolicyHolder {
  readonly engine: PolicyEngine;
  readonly #dir: string;
  readonly #catalogue: CatalogueService;
  readonly #logger: Logger;
  readonly #onLoaded: PolicyLoadedHook | null;
  readonly #announce: PolicyAnnouncer | null;
  readonly #instanceId: string;
  /** When the files in force at start were read (ms since the epoch): announcements older than that are moot. */
  readonly #readAt: number;
  /** Reloads run one at a time: one that read older files must not swap them in after a newer one. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(engine: PolicyEngine, dir: string, catalogue: CatalogueService, logger: Logger, options: PolicyHolderOptions, readAt: number) {
    this.engine = engine;
    this.#dir = dir;
    this.#catalogue = catalogue;
    this.#logger = logger;
    this.#onLoaded = options.onLoaded ?? null;
    this.#announce = options.announce ?? null;
    this.#instanceId = options.instanceId ?? '';
    this.#readAt = readAt;
    if (this.#announce !== null && this.#instanceId === '') throw new TypeError('PolicyHolder: announce needs the instanceId to name in announcements');
  }

  /** Compiles the files in dir against the current catalogue; ZT_ERR_POLICY_INVALID (file:line reasons) otherwise. */
  static async load(dir: string, catalogue: CatalogueService, logger: Logger, options: PolicyHolderOptions = {}): Promise<PolicyHolder> {
    const readAt = Date.now();
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), readPolicyDirectory(dir));
    await options.onLoaded?.(engine);
    return new PolicyHolder(engine, dir, catalogue, logger, options, readAt);
  }

  /** An empty list: everything is shared as the catalogue's sharing classes say. reload() reads dir later. */
  static async empty(catalogue: CatalogueService, logger: Logger, dir = '', options: PolicyHolderOptions = {}): Promise<PolicyHolder> {
    const readAt = Date.now();
    const engine = PolicyEngine.load(await catalogueSnapshot(catalogue), [{ name: 'empty.yaml', text: 'revision: empty\nrules: []\n' }]);
    await options.onLoaded?.(engine);
    return new PolicyHolder(engine, dir, catalogue, logger, options, readAt);
  }

  /**
   * Re-reads the files and recompiles against the current catalogue; on error the set in force stays and it throws.
   * It tells no other instance: for reloads this instance follows (a catalogue change, another's announcement).
   */
  async reload(): Promise<ReloadResult> {
    return (await this.#serialised('catalogue')).result;
  }

  /**
   * A reload asked for here (SIGHUP, or any other local trigger): as reload(), and when it changed the set in force
   * the other instances are told, so that they reload their own files. A failure to tell them is logged and leaves
   * the set in force here; `announced` says which.
   */
  async reloadRequested(): Promise<RequestedReload> {
    const { result, status } = await this.#serialised('requested');
    if (!result.changed || this.#announce === null) return { ...result, announced: false };
    try {
      await this.#announce({ revision: status.revision, digest: status.digest, previous: result.previous, instance: this.#instanceId });
      return { ...result, announced: true };
    } catch (error) {
      this.#logger.error(
        { err: error, revision: result.revision },
        'the reloaded negative list is in force here, but the other instances could not be told; send them SIGHUP',
      );
      return { ...result, announced: false };
    }
  }

  #serialised(cause: ReloadCause): Promise<{ result: ReloadResult; status: PolicyStatus }> {
    const run = this.#queue.then(() => this.#reloadNow(cause));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reloadNow(cause: ReloadCause): Promise<{ result: ReloadResult; status: PolicyStatus }> {
    const result = this.engine.reload(readPolicyDirectory(this.#dir), await catalogueSnapshot(this.#catalogue));
    const status = this.engine.status();
    if (result.changed) {
      this.#logger.info({ previous: result.previous, revision: result.revision, digest: status.digest, cause }, 'negative list reloaded');
      // The set is in force already; a failure to keep it is logged loudly rather than undoing the swap.
      await this.#onLoaded?.(this.engine).catch((error: unknown) =>
        this.#logger.error({ err: error, revision: result.revision }, 'the reloaded negative list could not be kept in policy_revisions; records citing it cannot be traced to its text'),
      );
    }
    return { result, status };
  }

  /**
   * Recompiles when the catalogue changes anywhere (a per-instance consumer group hears every change), and reloads
   * this instance's files when another instance announces a reload.
   */
  listen(bus: EventBus, instanceId: string): Promise<Subscription> {
    return bus.subscribe({
      topics: [CATALOGUE_EVENTS_TOPIC],
      group: `policy.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        const type = event.headers['zt-event-type'];
        if (type === POLICY_RELOADED_EVENT) return this.#follow(event, instanceId);
        if (type !== 'resource.published' && type !== 'resource.revised') return;
        await this.reload().catch((error: unknown) =>
          this.#logger.error({ err: error }, 'the negative list does not compile against the changed catalogue; the previous set stays in force'),
        );
      },
    });
  }

  /** Another instance's announcement: reload from this instance's own directory, without announcing again. */
  async #follow(event: DeliveredEvent, instanceId: string): Promise<void> {
    const announced = parsePolicyReloaded(event.value);
    if (announced === null) {
      this.#logger.warn({ offset: event.offset, partition: event.partition }, 'a policy.reloaded event without revision, digest and instance; ignored');
      return;
    }
    if (announced.instance === instanceId) return;
    // Made before this instance read its files at start (heard after a restart): those files are newer already.
    if (event.timestamp < this.#readAt) return;
    let status: PolicyStatus;
    try {
      status = (await this.#serialised('announced')).status;
    } catch (error) {
      this.#logger.error(
        { err: error, announcedBy: announced.instance, revision: announced.revision },
        `instance ${announced.instance} put negative list ${announced.revision} in force, but this instance's policy files do not load; the previous set stays in force here`,
      );
      return;
    }
    if (status.digest !== announced.digest) {
      this.#logger.error(
        { announcedBy: announced.instance, theirs: { revision: announced.revision, digest: announced.digest }, ours: { revision: status.revision, digest: status.digest } },
        `this instance's policy files differ from those instance ${announced.instance} put in force (here revision ${status.revision}, digest ${status.digest}; there revision ${announced.revision}, digest ${announced.digest}); keep ZT_POLICY_DIR identical on every instance`,
      );
    }
  }
}
