// The platform administration API from a department's system or the CLI: register departments, and grant,
// withdraw and list roles (docs/access-control.md). Every call is signed with the administrator's key, as every
// call to a non-public route is; listing the roles takes any department's signature.
//
//   const admin = new AdminClient({ httpUrl: 'http://127.0.0.1:8080', signer: DepartmentKey.fromFiles(key, cert) });
//   await admin.registerDepartment({ uscc: '11210100900000007E', name: '沈阳市测试局' });
//   await admin.grantRole({ role: 'supervisor', department: '11210100900000007E', reason: '…' });
//   await admin.close();
import { SignedTransport, type SignedCallOptions, type SignedTransportOptions } from './signed-transport.js';

export type AdminClientOptions = Omit<SignedTransportOptions, 'grpcAddress' | 'protocol'> & { httpUrl: string };

export type RegistryRole = 'administrator' | 'supervisor' | 'portal';

export interface DepartmentRegistration {
  uscc: string;
  name: string;
  shortName?: string;
  areaCode?: string;
}

export interface RoleHolder {
  role: RegistryRole;
  department: string;
  since: string;
  /** The administrator who granted it; null for a bootstrap from configuration. */
  grantedBy: string | null;
  source: string;
  reason: string | null;
}

export interface RoleChange {
  id: string;
  role: RegistryRole;
  department: string;
  action: 'grant' | 'withdraw';
  at: string;
  by: string | null;
  source: string;
  reason: string | null;
  statement: { key: string; signedAt: string; signedRequest: Record<string, string> } | null;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

export class AdminClient {
  readonly #t: SignedTransport;

  constructor(options: AdminClientOptions) {
    this.#t = new SignedTransport({ ...options, protocol: 'http' }, 'the administration API');
  }

  /** The signing department. */
  get department(): string {
    return this.#t.department;
  }

  /** Registers a department (the administrator's right). */
  async registerDepartment(input: DepartmentRegistration, options: SignedCallOptions = {}): Promise<Record<string, unknown>> {
    this.#t.use(options);
    return this.#t.httpJson('POST', '/v1/departments', json(input), options);
  }

  /** Grants a role (the administrator's right); the signed request is kept as the grant's evidence. */
  async grantRole(input: { role: RegistryRole; department: string; reason?: string }, options: SignedCallOptions = {}): Promise<RoleHolder> {
    this.#t.use(options);
    return (await this.#t.httpJson('POST', '/v1/roles/grants', json(input), options)) as unknown as RoleHolder;
  }

  /** Withdraws a role (the administrator's right; the last administrator stays). */
  async withdrawRole(input: { role: RegistryRole; department: string; reason?: string }, options: SignedCallOptions = {}): Promise<void> {
    this.#t.use(options);
    await this.#t.httpJson('POST', '/v1/roles/withdrawals', json(input), options);
  }

  /** The roles in force, with since when and who granted them. */
  async roles(role?: RegistryRole, options: SignedCallOptions = {}): Promise<RoleHolder[]> {
    this.#t.use(options);
    const answer = await this.#t.httpJson('GET', `/v1/roles${role ? `?role=${role}` : ''}`, undefined, options);
    return answer.holders as RoleHolder[];
  }

  /** Every grant and withdrawal, oldest first, each with the signed request that made it. */
  async roleHistory(department?: string, options: SignedCallOptions = {}): Promise<RoleChange[]> {
    this.#t.use(options);
    const answer = await this.#t.httpJson('GET', `/v1/roles/history${department ? `?department=${encodeURIComponent(department)}` : ''}`, undefined, options);
    return answer.changes as RoleChange[];
  }

  close(): Promise<void> {
    return this.#t.close();
  }
}
