// Which connector serves a resource. Data held by the exchange (a supplier extract was loaded: the 前置库 model) is
// read from its tables; otherwise a resource whose catalogue entry names an HTTP connector is asked at that
// endpoint. The choice is made once per resource and kept for a minute, so the hot path does not ask again.
import { ZtError } from '../../core/errors/index.js';
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import type { CatalogueService } from '../../registry/catalogue/index.js';
import type { Connector } from './connector.js';
import { HttpConnector, type HttpConnectorOptions } from './http/index.js';
import { TableConnector } from './table/index.js';

const CHOICE_TTL_MS = 60_000;

export interface ConnectorRegistryOptions {
  /** The blind index the exchange's tables are keyed by. */
  pseudonyms: BlindIndex;
  /** How long a table lookup under load waits for others to share its statement (TableConnector); default 0. */
  lingerMs?: number;
  /** Settings for every HTTP connector (timeouts, retries, breaker); the endpoint comes from the catalogue. */
  http?: Omit<HttpConnectorOptions, 'endpoint'>;
}

export class ConnectorRegistry {
  readonly #db: Database;
  readonly #catalogue: CatalogueService;
  readonly #options: ConnectorRegistryOptions;
  readonly #chosen = new Map<string, { connector: Promise<Connector>; until: number }>();
  readonly #http = new Map<string, HttpConnector>();

  constructor(db: Database, catalogue: CatalogueService, options: ConnectorRegistryOptions) {
    this.#db = db;
    this.#catalogue = catalogue;
    this.#options = options;
  }

  forResource(resource: string): Promise<Connector> {
    const now = Date.now();
    const chosen = this.#chosen.get(resource);
    if (chosen && chosen.until > now) return chosen.connector;
    const connector = this.#choose(resource);
    this.#chosen.set(resource, { connector, until: now + CHOICE_TTL_MS });
    connector.catch(() => this.#chosen.delete(resource));
    return connector;
  }

  /** Forget the choices, e.g. after an extract was loaded. */
  invalidate(): void {
    this.#chosen.clear();
  }

  async #choose(resource: string): Promise<Connector> {
    const held = await this.#db.query('SELECT 1 FROM exchange_extracts WHERE resource = $1 LIMIT 1', [resource]);
    if (held.rows.length > 0) return new TableConnector(this.#db, resource, this.#options.pseudonyms, { lingerMs: this.#options.lingerMs ?? 0 });
    const entry = await this.#catalogue.get(resource);
    if (entry.connector.kind === 'http') {
      let connector = this.#http.get(entry.connector.endpoint);
      if (!connector) {
        connector = new HttpConnector({ ...this.#options.http, endpoint: entry.connector.endpoint });
        this.#http.set(entry.connector.endpoint, connector);
      }
      return connector;
    }
    throw new ZtError(
      'ZT_ERR_UPSTREAM_UNAVAILABLE',
      `${resource} is served by a ${entry.connector.kind} connector, which this exchange cannot reach; load the supplier's extract (zhengtong extract load) or publish an http connector`,
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.#http.values()].map((c) => c.close()));
  }
}
