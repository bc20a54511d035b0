import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';

function breakerWithClock(options: CircuitBreakerOptions = {}) {
  const clock = { now: 1_000_000 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    now: () => clock.now,
    onStateChange: (state: CircuitState, previous: CircuitState) => changes.push(`${previous}→${state}`),
    ...options,
  });
  return { breaker, clock, changes };
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) {
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
  }
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, and a success in between starts the count again', () => {
    const { breaker, changes } = breakerWithClock({ failureThreshold: 3 });
    fail(breaker, 2);
    breaker.recordSuccess();
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed→open']);
    expect(breaker.opened).toBe(1);
    expect(breaker.failures).toBe(5);
    expect(breaker.successes).toBe(1);
  });

  it('refuses calls while open and counts the refusals', () => {
    const { breaker, clock } = breakerWithClock({ failureThreshold: 1, coolDownMs: 1000 });
    fail(breaker, 1);
    expect(breaker.retryAt?.getTime()).toBe(clock.now + 1000);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.rejected).toBe(2);
  });

  it('turns half-open after the cool-down, lets a limited number of trials through, and a success closes it', () => {
    const { breaker, clock, changes } = breakerWithClock({ failureThreshold: 1, coolDownMs: 1000, halfOpenTrials: 2 });
    fail(breaker, 1);
    clock.now += 999;
    expect(breaker.state).toBe('open');
    clock.now += 1;
    expect(breaker.state).toBe('half-open');
    expect(breaker.retryAt).toBeNull();
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
  });

  it('re-opens on a failed trial, for a fresh cool-down', () => {
    const { breaker, clock, changes } = breakerWithClock({ failureThreshold: 1, coolDownMs: 1000 });
    fail(breaker, 1);
    clock.now += 1000;
    fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt?.getTime()).toBe(clock.now + 1000);
    expect(changes).toEqual(['closed→open', 'open→half-open', 'half-open→open']);
    expect(breaker.opened).toBe(2);
  });

  it('frees a trial slot on release without closing or re-opening', () => {
    const { breaker, clock } = breakerWithClock({ failureThreshold: 1, coolDownMs: 10 });
    fail(breaker, 1);
    clock.now += 10;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('ignores the late success of a call let through before the circuit opened', () => {
    const { breaker } = breakerWithClock({ failureThreshold: 1 });
    expect(breaker.tryAcquire()).toBe(true); // a slow call starts
    fail(breaker, 1); // another fails, and opens the circuit
    breaker.recordSuccess(); // the slow one succeeds
    expect(breaker.state).toBe('open');
  });

  it('opens on the failure rate over the window once it holds enough calls', () => {
    const { breaker } = breakerWithClock({ failureThreshold: 100, failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 1000 });
    for (let i = 0; i < 4; i++) {
      breaker.recordSuccess();
      breaker.recordFailure();
    }
    expect(breaker.state).toBe('closed'); // 4 of 8: under minimumCalls
    breaker.recordSuccess();
    breaker.recordFailure(); // 5 of 10
    expect(breaker.state).toBe('open');
  });

  it('stays closed while the failure rate is under the threshold', () => {
    const { breaker } = breakerWithClock({ failureThreshold: 100, failureRateThreshold: 0.5, minimumCalls: 10 });
    for (let i = 0; i < 20; i++) {
      breaker.recordSuccess();
      breaker.recordSuccess();
      breaker.recordFailure(); // 1 in 3
    }
    expect(breaker.state).toBe('closed');
  });

  // 1150 ms: the old bucket is past the window but not yet reused; 1000 ms: the same bucket is reused for new calls.
  it.each([1150, 1000])('forgets calls that have slid out of the window (%i ms later)', (later) => {
    const { breaker, clock } = breakerWithClock({ failureThreshold: 100, failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 1000 });
    for (let i = 0; i < 9; i++) breaker.recordFailure();
    clock.now += later;
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 9; i++) breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });

  it('refuses settings that make no sense', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ failureRateThreshold: 1.5 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ coolDownMs: -1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ halfOpenTrials: 1.5 })).toThrow(RangeError);
  });
});
