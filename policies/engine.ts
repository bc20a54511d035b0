// The engine a service holds: one compiled policy set in force, replaced whole by reload().
import type { RuleInfo } from './policy.js';
import { ZtError } from '../core/errors/index.js';
import type { CatalogueView } from './catalogue.js';
import { compilePolicy } from './compile.js';
import type { Decision, DecisionRequest } from './decision.js';
import { readPolicyDirectory } from './files.js';
import type { PolicySource } from './policy-file.js';
import type { CompiledPolicy } from './policy.js';

/** Receives every decision (e.g. to append it to the decision log); the engine knows nothing of where it goes. */
export type DecisionSink = (request: DecisionRequest, decision: Decision) => void;

export interface PolicyEngineOptions {
  readonly onDecision?: DecisionSink | null;
}

export interface PolicyStatus {
  readonly revision: string;
  readonly digest: string;
  readonly catalogueRevision: string;
  readonly files: readonly string[];
  readonly rules: number;
  readonly loadedAt: Date;
}

export interface ReloadResult {
  readonly previous: string;
  readonly revision: string;
  /** False when the files and catalogue were those already in force: nothing was swapped. */
  readonly changed: boolean;
}

function sourcesOf(input: readonly PolicySource[] | string): readonly PolicySource[] {
  return typeof input === 'string' ? [{ name: 'policy.yaml', text: input }] : input;
}

export class PolicyEngine {
  #policy: CompiledPolicy;
  #catalogue: CatalogueView;
  #loadedAt: Date;
  readonly #onDecision: DecisionSink | null;

  private constructor(catalogue: CatalogueView, policy: CompiledPolicy, options: PolicyEngineOptions) {
    this.#catalogue = catalogue;
    this.#policy = policy;
    this.#loadedAt = new Date();
    this.#onDecision = options.onDecision ?? null;
  }

  /** Compiles the files (or one YAML text) against the catalogue; throws ZT_ERR_POLICY_INVALID if they are invalid. */
  static load(catalogue: CatalogueView, sources: readonly PolicySource[] | string, options: PolicyEngineOptions = {}): PolicyEngine {
    return new PolicyEngine(catalogue, compilePolicy(catalogue, sourcesOf(sources)), options);
  }

  static loadDirectory(catalogue: CatalogueView, dir: string, options: PolicyEngineOptions = {}): PolicyEngine {
    return PolicyEngine.load(catalogue, readPolicyDirectory(dir), options);
  }

  /** The set in force. A caller that needs several answers from one revision holds on to this. */
  get policy(): CompiledPolicy {
    return this.#policy;
  }

  /** The catalogue the set in force was compiled against (impact analysis compiles candidates against it too). */
  get catalogue(): CatalogueView {
    return this.#catalogue;
  }

  get revision(): string {
    return this.#policy.revision;
  }

  status(): PolicyStatus {
    const p = this.#policy;
    return { revision: p.revision, digest: p.digest, catalogueRevision: p.catalogueRevision, files: p.files, rules: p.rules.length, loadedAt: this.#loadedAt };
  }

  /** The entries of the set in force, as published (id, effect, legal basis, mask, where written). */
  rules(): readonly RuleInfo[] {
    return this.#policy.rules;
  }

  /** Whether the set in force has this rule (registry/catalogue's NegativeListLookup: refusals must cite one). */
  has(ruleId: string): boolean {
    return this.#policy.has(ruleId);
  }

  decide(request: DecisionRequest): Decision {
    const decision = this.#policy.decide(request);
    if (this.#onDecision !== null) this.#onDecision(request, decision);
    return decision;
  }

  /**
   * Compiles the new set completely, then swaps it in with one assignment. If anything is wrong the set in force
   * stays and ZT_ERR_POLICY_INVALID says why (file:line: reason for each problem). A revision names one content:
   * a set that reuses the revision in force with different files is refused.
   */
  reload(sources: readonly PolicySource[] | string, catalogue: CatalogueView = this.#catalogue): ReloadResult {
    const previous = this.#policy;
    const next = compilePolicy(catalogue, sourcesOf(sources));
    if (next.digest === previous.digest && next.catalogueRevision === previous.catalogueRevision) {
      return { previous: previous.revision, revision: previous.revision, changed: false };
    }
    if (next.revision === previous.revision && next.digest !== previous.digest) {
      throw new ZtError(
        'ZT_ERR_POLICY_INVALID',
        `revision ${next.revision} is already in force with different content; give the new set a new revision so that decisions can tell them apart`,
        { details: { problems: [{ file: next.files[0] ?? '(policy set)', line: 1, reason: `revision ${next.revision} reused for different content` }] } },
      );
    }
    this.#policy = next;
    this.#catalogue = catalogue;
    this.#loadedAt = new Date();
    return { previous: previous.revision, revision: next.revision, changed: true };
  }

  reloadDirectory(dir: string, catalogue: CatalogueView = this.#catalogue): ReloadResult {
    return this.reload(readPolicyDirectory(dir), catalogue);
  }
}
