// The signed result of an exchange query (docs/exchange-protocol.md, "Response"): what the gateway signs and the
// client SDK verifies. Members left out of the canonical JSON (null) are absent.

export const EXCHANGE_RESULT_SCHEMA = 'zhengtong/exchange-result/v1';

export interface ExchangeResult {
  schema: typeof EXCHANGE_RESULT_SCHEMA;
  /** Id of the access record written for this answer. */
  accessId: string;
  /** Lower-case hex SM3 of the canonical request this answers. */
  requestDigest: string;
  requester: string;
  resource: string;
  subject: { kind: 'person' | 'organisation'; code: string };
  purpose: { serviceItem: string; caseNumber: string };
  decision: 'permit';
  policyRevision: string;
  /** Rules that shaped the answer (masks, withheld items), with their legal basis in the list in force. */
  ruleIds: string[];
  /** The items released, by item code. */
  items: Record<string, unknown>;
  /** Items released masked. */
  masked: string[];
  /** Items asked for and not released, with the negative-list rules that withheld them. */
  withheld: { item: string; ruleIds: string[] }[];
  provenance: { item: string; supplier: string; resource: string; source: string; retrievedAt: string }[];
  respondedAt: string;
}
