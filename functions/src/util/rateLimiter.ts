/**
 * An in-process limiter: at most `maxConcurrent` calls running at once and at most
 * `requestsPerMinute` started in any rolling 60 s, waiting callers served first come, first
 * served. A caller that would wait longer than `maxWaitMs` is refused with a `LimiterBusy` that
 * says when to try again. The rate is a log of the last minute's starts rather than a token
 * bucket: a bucket of capacity C admits C + R starts in some minute, the log never more than R.
 */

export interface LimiterCaps {
  maxConcurrent?: number;
  requestsPerMinute?: number;
}

export class LimiterBusy extends Error {
  constructor(readonly retryAfterMs: number) {
    super("too many calls at once");
    this.name = "LimiterBusy";
  }
}

const WINDOW_MS = 60_000;
/** Until a call has finished here, how long one is assumed to take (for retry advice only). */
const FIRST_DURATION_GUESS_MS = 10_000;

interface Waiter {
  grant(): void;
}

export class RateLimiter {
  private running = 0;
  private readonly starts: number[] = []; // ascending; only the last WINDOW_MS
  private readonly waiters: Waiter[] = [];
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private typicalDurationMs = FIRST_DURATION_GUESS_MS;

  constructor(
    private caps: LimiterCaps,
    private readonly maxWaitMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** New caps apply to the next start (config/runtime edits); running calls are not affected. */
  setCaps(caps: LimiterCaps): void {
    if (caps.maxConcurrent === this.caps.maxConcurrent && caps.requestsPerMinute === this.caps.requestsPerMinute) return;
    this.caps = caps;
    this.serveWaiters();
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Runs `fn` once a slot is free; the slot is given back however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    const startedAt = this.now();
    try {
      return await fn();
    } finally {
      this.typicalDurationMs = 0.8 * this.typicalDurationMs + 0.2 * (this.now() - startedAt);
      this.running--;
      this.serveWaiters();
    }
  }

  private acquire(): Promise<void> {
    const now = this.now();
    this.forgetOldStarts(now);
    if (this.waiters.length === 0 && this.canStart()) {
      this.start(now);
      return Promise.resolve();
    }
    // Known up front: the rate alone would keep this caller waiting too long.
    const rateWait = this.rateWaitMs(now, this.waiters.length + 1);
    if (rateWait > this.maxWaitMs) return Promise.reject(new LimiterBusy(rateWait));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new LimiterBusy(this.retryAdviceMs()));
      }, this.maxWaitMs);
      this.waiters.push(waiter);
      this.wakeForRate(now);
    });
  }

  private canStart(): boolean {
    const { maxConcurrent, requestsPerMinute } = this.caps;
    return (maxConcurrent === undefined || this.running < maxConcurrent) && (requestsPerMinute === undefined || this.starts.length < requestsPerMinute);
  }

  private start(now: number): void {
    this.running++;
    if (this.caps.requestsPerMinute !== undefined) this.starts.push(now);
  }

  private serveWaiters(): void {
    const now = this.now();
    this.forgetOldStarts(now);
    while (this.waiters.length > 0 && this.canStart()) {
      this.start(now);
      this.waiters.shift()!.grant();
    }
    this.wakeForRate(now);
  }

  /** Waiters held back by the rate (no release will come to serve them) are woken when a start ages out. */
  private wakeForRate(now: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.waiters.length > 0 && this.caps.requestsPerMinute !== undefined && this.starts.length >= this.caps.requestsPerMinute) {
      this.wakeTimer = setTimeout(() => this.serveWaiters(), Math.max(1, this.starts[0]! + WINDOW_MS - now));
    }
  }

  private forgetOldStarts(now: number): void {
    while (this.starts.length > 0 && this.starts[0]! <= now - WINDOW_MS) this.starts.shift();
  }

  /** How long until the `position`-th caller from now may start as far as the rate goes. */
  private rateWaitMs(now: number, position: number): number {
    const rpm = this.caps.requestsPerMinute;
    if (rpm === undefined) return 0;
    const mustAgeOut = this.starts.length + position - rpm; // starts that must leave the window first
    if (mustAgeOut <= 0) return 0;
    const start = this.starts[mustAgeOut - 1];
    // Beyond the current log: the earliest is one more window away per `rpm` callers ahead.
    return start !== undefined ? start + WINDOW_MS - now : WINDOW_MS * Math.ceil(mustAgeOut / rpm);
  }

  private retryAdviceMs(): number {
    const now = this.now();
    const concurrencyWait = this.caps.maxConcurrent !== undefined && this.running >= this.caps.maxConcurrent ? this.typicalDurationMs : 0;
    return Math.max(1_000, concurrencyWait, this.rateWaitMs(now, this.waiters.length + 1));
  }
}
