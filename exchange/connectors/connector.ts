// The connector port: how the exchange fetches one subject's record from the supplier that holds it. A resource's
// catalogue entry names its connector; the exchange asks for the items the policy allows and nothing else.

/** Whose data is asked for: a person by resident ID number, or an organisation by unified social credit code. */
export interface Subject {
  kind: 'person' | 'organisation';
  /** The normalised identifier (upper-case check character). */
  code: string;
}

export interface ConnectorQuery {
  /** Catalogue code of the data resource, e.g. 210100-GA-0001. */
  resource: string;
  subject: Subject;
  /** The data items to return; the connector returns no other item. */
  items: readonly string[];
  /** Aborted when the caller gives up (request deadline, shutdown). */
  signal?: AbortSignal;
}

export interface ConnectorRecord {
  /** Item code → value; an item the supplier holds no value for is absent. */
  values: Record<string, unknown>;
  /** When the supplier's data was read (a table's load time, or the upstream's answer time). */
  retrievedAt: Date;
  /** When the supplier last changed this record, if it says. */
  updatedAt?: Date;
}

export interface Connector {
  /** What serves the data, for provenance and logs, e.g. "table:210100-GA-0001" or "http:https://…". */
  readonly source: string;
  /**
   * True when a read has no effect outside the platform: the supplier's extract, held in the platform's own
   * database. The exchange may then start the read while the caller's signature is still being checked; a call to
   * a supplier's system is never made before the caller is known.
   */
  readonly readsInPlace?: boolean;
  /**
   * The subject's record, restricted to `items`; null when the supplier holds nothing about the subject.
   * Rejects with ZT_ERR_UPSTREAM_UNAVAILABLE, ZT_ERR_UPSTREAM_TIMEOUT or ZT_ERR_UPSTREAM_BAD_RESPONSE when the
   * supplier cannot answer.
   */
  fetch(query: ConnectorQuery): Promise<ConnectorRecord | null>;
  /** Releases sockets and timers. */
  close(): Promise<void>;
}
