// What every scenario of the fault suite (npm run faults) is given and reports. A scenario drives real gateway
// processes over real PostgreSQL and Kafka, injects its faults into the real processes, and checks afterwards what
// the promises say: nothing answered without its record, nothing lost, no 5xx where a 4xx or 503 is due.

export interface ScenarioContext {
  /** The short form (.ci/run): fewer faults, shorter load; the same checks. */
  quick: boolean;
  databaseUrl: string;
  /** The broker the gateways publish to (scripts/kafka.sh in CI). */
  kafkaBrokers: string;
  /** One progress line (the runner prefixes the scenario's name). */
  log(line: string): void;
}

export interface ScenarioResult {
  /** The load held, in words: "2 instances, 120 req/s, 4 clients". */
  load: string;
  /** The faults injected, in words: "kill -9 × 3". */
  faults: string;
  /** Requests sent. */
  requests: number;
  /** Answers a client received whose promise was then broken (no record, an event never published …). */
  lost: number;
  /** Answers with a 5xx status or gRPC status INTERNAL/UNKNOWN. */
  serverErrors: number;
  /** The longest time to recover after a fault ended, in seconds; null when the scenario has none. */
  recoverySeconds: number | null;
  /** What failed, one line each; empty when the scenario passed. */
  failures: string[];
  /** Further figures, one line each (printed under the table). */
  notes: string[];
}

export interface Scenario {
  /** Its name on the command line: npm run faults -- kill-9. */
  name: string;
  /** One line: what it shows. */
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
